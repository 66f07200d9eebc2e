package io.execfarm.worker.pool;

import io.execfarm.contracts.Result;
import io.execfarm.worker.runtime.ExecutionOutcome;
import io.execfarm.worker.runtime.ExecutionSpec;
import io.execfarm.worker.runtime.OutputSink;
import io.execfarm.worker.runtime.RuntimeProcess;
import io.execfarm.worker.threads.DaemonThreads;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Runs requests on a pool's processes: acquire, execute, clean up, release. Blocking; call it off
 * the event loop.
 *
 * <p>A request's outcome returns as soon as its driver reports it. Settling the process after it
 * (killing what it left running, emptying its scratch, checking from outside that it is at rest)
 * runs on a recycler thread, off the caller's critical path; the process goes back to the pool
 * only after that, so the next request on it never sees what this one left behind, and one not at
 * rest is retired instead.
 */
public final class PoolExecutor implements AutoCloseable {

    private final ProcessPool<RuntimeProcess> pool;
    private final Duration acquireTimeout;
    private final ExecutorService recycler;

    public PoolExecutor(ProcessPool<RuntimeProcess> pool, Duration acquireTimeout) {
        this.pool = pool;
        this.acquireTimeout = acquireTimeout;
        this.recycler = Executors.newCachedThreadPool(DaemonThreads.named("execfarm-" + pool.name() + "-recycle"));
    }

    public ProcessPool<RuntimeProcess> pool() {
        return pool;
    }

    public TimedOutcome execute(ExecutionSpec spec, String tenant, OutputSink sink, CancelSignal cancel)
            throws InterruptedException {
        long start = System.nanoTime();
        if (cancel.isCancelled()) {
            return new TimedOutcome(ExecutionOutcome.cancelledBeforeStart(), 0, 0);
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
            return new TimedOutcome(ExecutionOutcome.cancelledBeforeStart(), acquired - start, 0);
        }
        ExecutionOutcome outcome;
        try {
            outcome = process.execute(spec, sink);
        } catch (InterruptedException e) {
            pool.release(lease, false);
            throw e;
        } finally {
            cancel.unbind();
        }
        long executed = System.nanoTime();
        boolean reusable = outcome.processSurvived();
        recycler.execute(() -> {
            // Nothing a request started may outlive it and watch, answer or fill the next one.
            Optional<Retirement> unfit = !reusable ? Optional.of(Retirement.DISCARDED)
                    : spec.session() == null ? process.settle().map(Retirement::of) : Optional.empty();
            pool.release(lease, unfit);
        });
        return new TimedOutcome(outcome, acquired - start, executed - acquired);
    }

    /** Lets pending clean-ups finish, then closes the pool. */
    @Override
    public void close() {
        recycler.shutdown();
        try {
            recycler.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        pool.close();
    }
}
