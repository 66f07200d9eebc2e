package io.execfarm.worker.pool;

/** No suitable process became available in time. */
public final class PoolTimeoutException extends Exception {

    public PoolTimeoutException(String message) {
        super(message);
    }
}
