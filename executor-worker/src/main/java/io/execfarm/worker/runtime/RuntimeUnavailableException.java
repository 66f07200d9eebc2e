package io.execfarm.worker.runtime;

/** A configured runtime cannot run on this machine at all, e.g. its binary is not installed. */
public final class RuntimeUnavailableException extends Exception {

    public RuntimeUnavailableException(String message) {
        super(message);
    }
}
