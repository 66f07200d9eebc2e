package io.execfarm.worker.session;

import io.execfarm.contracts.ExecutionRequest;
import io.execfarm.contracts.Result;
import io.execfarm.worker.config.WorkerConfig;
import io.execfarm.worker.delivery.RequestLedger;
import io.execfarm.worker.delivery.Retries;
import io.execfarm.worker.metrics.WorkerMetrics;
import io.execfarm.worker.pool.CancelSignal;
import io.execfarm.worker.pool.Pools;
import io.execfarm.worker.runtime.ExecutionSpec;
import io.execfarm.worker.runtime.OutputSink;
import io.execfarm.worker.threads.DaemonThreads;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.interceptor.Interceptor;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * Runs requests that name a session: admits them against the session's record, runs them on the
 * session's pinned process (rebuilding it from the history when needed), and stores each result,
 * then the history entry it adds. A reaper retires pinned processes whose session ended
 * or that sat idle too long.
 */
@ApplicationScoped
public class Sessions {

    private static final Logger LOG = Logger.getLogger(Sessions.class);

    private final Pools pools;
    private final SessionStore store;
    private final RequestLedger ledger;
    private final WorkerMetrics metrics;
    private final WorkerConfig config;
    private final Retries retries;
    private final Map<String, SessionProcesses> byRuntime = new ConcurrentHashMap<>();
    private final ScheduledExecutorService reaper =
            Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("execfarm-session-reaper"));

    public Sessions(Pools pools, SessionStore store, RequestLedger ledger, WorkerMetrics metrics, WorkerConfig config,
            Retries retries) {
        this.pools = pools;
        this.ledger = ledger;
        this.retries = retries;
        this.store = store;
        this.metrics = metrics;
        this.config = config;
    }

    /** After the pools open, before any consumer starts. */
    void start(@Observes @Priority(Interceptor.Priority.PLATFORM_BEFORE + 2) StartupEvent event) {
        pools.stats().keySet().forEach(runtime -> {
            var pool = pools.executor(runtime).orElseThrow().pool();
            int maxPinned = Math.max(0, config.runtime().get(runtime).pool().maxPinned().orElse(pool.settings().size() - 1));
            SessionProcesses processes = new SessionProcesses(pool, maxPinned, config.acquireTimeout(),
                    config.session().replayTimeout(), new SessionProcesses.History() {
                        @Override
                        public List<String> snippets(String session, long from, long to) {
                            return retries.call("reading the history of session " + session,
                                    () -> store.history(session, from, to));
                        }

                        @Override
                        public long length(String session) {
                            return retries.call("reading the history of session " + session,
                                    () -> store.historyLength(session));
                        }

                        @Override
                        public Map<String, byte[]> files(String session) {
                            return retries.call("reading the files of session " + session, () -> store.files(session));
                        }
                    });
            pool.reclaimFrom(processes::reclaimLongestIdle);
            byRuntime.put(runtime, processes);
            metrics.registerPinned(runtime, processes::pinned);
        });
        long every = config.session().reapInterval().toMillis();
        reaper.scheduleWithFixedDelay(this::reap, every, every, TimeUnit.MILLISECONDS);
    }

    /** Before the pools close. */
    void stop(@Observes @Priority(Interceptor.Priority.PLATFORM_BEFORE) ShutdownEvent event) {
        reaper.shutdownNow();
        byRuntime.values().forEach(SessionProcesses::close);
    }

    /** Whether the request may run in its session; refreshes the session's idle timeout when it may. */
    public SessionStore.Opening open(ExecutionRequest request) {
        return retries.call("opening session " + request.session() + " for " + request.id(),
                () -> store.open(request.session(), request.tenant(), request.runtime(), request.code()));
    }

    /** Runs the request in its session, as {@code opened} found it; settle it with {@link #record}. */
    public SessionProcesses.Run execute(ExecutionRequest request, SessionStore.Opening.Open opened, ExecutionSpec spec,
            OutputSink sink, CancelSignal cancel) throws InterruptedException {
        SessionProcesses.Run run = byRuntime.get(request.runtime()).execute(request.session(), request.tenant(),
                opened.snippets(), opened.filesVersion(), spec, sink, cancel);
        if (run.replayed() > 0) {
            metrics.sessionRebuilt(request.runtime(), run.replayed());
        }
        return run;
    }

    /**
     * Stores the result, then records the request in its session ({@link #recordInHistory}); then
     * keeps or retires the process. A result that could not be stored or recorded
     * ({@link Retries.GaveUp}) retires the process: its state is then ahead of the history it would
     * be rebuilt from.
     *
     * <p>The result and the session live in different slots of a Redis Cluster, so they are two
     * writes, in this order: a worker that dies between them leaves a stored result whose
     * redelivery records it ({@code ResultDelivery}) instead of running it again.
     */
    public void record(ExecutionRequest request, SessionProcesses.Run run, Result result) {
        long snippets = -1;
        try {
            retries.run("storing the result of " + request.id(), () -> ledger.storeResult(result));
            snippets = recordInHistory(request, result);
        } finally {
            byRuntime.get(request.runtime()).finish(run, snippets);
        }
    }

    /**
     * Appends the request's code to its session's history when it ran to completion (ok or error:
     * a failing snippet may have changed the session before it failed), once however often it is
     * called. Returns the history's length, or -1 when the session ended.
     */
    public long recordInHistory(ExecutionRequest request, Result result) {
        boolean ranToCompletion = result.status() == Result.Status.OK || result.status() == Result.Status.ERROR;
        return retries.call("recording " + request.id() + " in session " + request.session(),
                () -> store.record(request.session(), request.tenant(), request.id(), request.code(), ranToCompletion));
    }

    /** Settles a run whose result is not this worker's to record (its request was taken over): the process is retired. */
    public void abandon(ExecutionRequest request, SessionProcesses.Run run) {
        byRuntime.get(request.runtime()).finish(run, -1);
    }

    private void reap() {
        Duration pinIdleTimeout = config.session().pinIdleTimeout();
        byRuntime.forEach((runtime, processes) -> {
            try {
                Map<String, Duration> idle = processes.idle();
                if (idle.isEmpty()) {
                    return;
                }
                Set<String> release = new HashSet<>(store.ended(idle.keySet()));
                idle.forEach((session, duration) -> {
                    if (duration.compareTo(pinIdleTimeout) > 0) {
                        release.add(session);
                    }
                });
                if (!release.isEmpty()) {
                    LOG.debugf("%s: releasing the processes of %d sessions (ended or idle)", runtime, release.size());
                    processes.release(release);
                }
            } catch (RuntimeException e) {
                LOG.warnf("could not check the sessions pinned on %s processes: %s", runtime, e.getMessage());
            }
        });
    }
}
