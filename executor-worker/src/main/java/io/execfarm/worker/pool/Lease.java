package io.execfarm.worker.pool;

/** A process handed out by a pool, until it is released. Pool-internal state is guarded by the pool's lock. */
public final class Lease<P> {

    private final P process;
    private final int slot;
    private String tenant;
    private int executions;

    Lease(P process, int slot) {
        this.process = process;
        this.slot = slot;
    }

    public P process() {
        return process;
    }

    int slot() {
        return slot;
    }

    /** The tenant whose code this process has run, or null while it is fresh. */
    String tenant() {
        return tenant;
    }

    void assignTo(String tenant) {
        this.tenant = tenant;
    }

    int executions() {
        return executions;
    }

    void countExecution() {
        executions++;
    }
}
