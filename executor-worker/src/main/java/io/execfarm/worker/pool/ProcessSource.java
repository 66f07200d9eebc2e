package io.execfarm.worker.pool;

import io.execfarm.worker.runtime.RuntimeStartException;

/** Where a pool gets its processes and how it disposes of them. */
public interface ProcessSource<P> {

    /** Starts a warm process for pool slot {@code slot}; blocks until it is warm. */
    P start(int slot) throws RuntimeStartException;

    /** Kills the process and removes what it left behind. */
    void dispose(P process);

    boolean isAlive(P process);

    long residentBytes(P process);
}
