package io.execfarm.worker.pool;

import io.execfarm.contracts.Result;
import io.execfarm.worker.runtime.ExecutionOutcome;
import io.execfarm.worker.runtime.ExecutionSpec;
import io.execfarm.worker.runtime.OutputSink;
import io.execfarm.worker.runtime.RuntimeProcess;
import java.time.Duration;

/** Runs requests on a pool's processes: acquire, execute, clean up, release. Blocking; call it off the event loop. */
public final class PoolExecutor {

    private final ProcessPool<RuntimeProcess> pool;
    private final Duration acquireTimeout;

    public PoolExecutor(ProcessPool<RuntimeProcess> pool, Duration acquireTimeout) {
        this.pool = pool;
        this.acquireTimeout = acquireTimeout;
    }

    public ProcessPool<RuntimeProcess> pool() {
        return pool;
    }

    public TimedOutcome execute(ExecutionSpec spec, String tenant, OutputSink sink, CancelSignal cancel)
            throws InterruptedException {
        long start = System.nanoTime();
        if (cancel.isCancelled()) {
            return new TimedOutcome(cancelled(), 0, 0);
        }
        Lease<RuntimeProcess> lease;
        try {
            lease = pool.acquire(tenant, acquireTimeout);
        } catch (PoolTimeoutException e) {
            return new TimedOutcome(new ExecutionOutcome(Result.Status.REJECTED, null,
                    new Result.ErrorInfo("NoCapacity", e.getMessage(), null), false, 0), System.nanoTime() - start, 0);
        }
        long acquired = System.nanoTime();
        RuntimeProcess process = lease.process();
        if (!cancel.bind(() -> process.cancel(spec.id()))) {
            pool.release(lease, true);
            return new TimedOutcome(cancelled(), acquired - start, 0);
        }
        ExecutionOutcome outcome;
        try {
            outcome = process.execute(spec, sink);
        } finally {
            cancel.unbind();
        }
        boolean reusable = outcome.processSurvived();
        if (reusable && spec.session() == null) {
            // Child processes a request started must not outlive it and watch the next one.
            process.killStragglers();
        }
        pool.release(lease, reusable);
        return new TimedOutcome(outcome, acquired - start, System.nanoTime() - acquired);
    }

    private static ExecutionOutcome cancelled() {
        return new ExecutionOutcome(Result.Status.CANCELLED, null,
                new Result.ErrorInfo("Cancelled", "cancelled before it started", null), false, 0);
    }
}
