package io.execfarm.worker.runtime;

/** A runtime process could not be started or warmed up; the message says why in a person's words. */
public final class RuntimeStartException extends Exception {

    public RuntimeStartException(String message) {
        super(message);
    }

    public RuntimeStartException(String message, Throwable cause) {
        super(message, cause);
    }
}
