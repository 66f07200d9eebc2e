package io.execfarm.worker.pool;

import io.execfarm.worker.runtime.RuntimeStartException;
import java.util.Optional;

/** Where a pool gets its processes and how it disposes of them. */
public interface ProcessSource<P> {

    /** Starts a warm process for pool slot {@code slot}; blocks until it is warm. */
    P start(int slot) throws RuntimeStartException;

    /** Kills the process and removes what it left behind. */
    void dispose(P process);

    /**
     * Why an idle process may not serve a request (it exited, or did something while idle), or
     * empty when it may. Called under the pool's lock as a process is handed out: a few small reads.
     */
    Optional<Retirement> unfitWhileIdle(P process);

    long residentBytes(P process);
}
