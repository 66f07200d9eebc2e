package io.execfarm.worker.messaging;

import io.execfarm.contracts.CollectedFile;
import io.execfarm.contracts.ExecutionRequest;
import io.execfarm.contracts.InputFile;
import io.execfarm.contracts.Result;
import io.execfarm.contracts.Started;
import io.execfarm.worker.config.WorkerConfig;
import io.execfarm.worker.config.WorkerId;
import io.execfarm.worker.delivery.ClaimKeeper;
import io.execfarm.worker.delivery.Retries.GaveUp;
import io.execfarm.worker.files.StoredFiles;
import io.execfarm.worker.metrics.WorkerMetrics;
import io.execfarm.worker.pool.CancelSignal;
import io.execfarm.worker.pool.PoolExecutor;
import io.execfarm.worker.pool.Pools;
import io.execfarm.worker.pool.TimedOutcome;
import io.execfarm.worker.runtime.ExecutionOutcome;
import io.execfarm.worker.runtime.ExecutionSpec;
import io.execfarm.worker.runtime.FileLimits;
import io.execfarm.worker.session.SessionProcesses;
import io.execfarm.worker.session.SessionStore;
import io.execfarm.worker.session.Sessions;
import io.execfarm.worker.threads.DaemonThreads;
import io.execfarm.worker.tracing.ExecutionTrace;
import io.opentelemetry.context.Context;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * Runs a claimed request, with or without a session, on a warm process: its events on the way
 * (started, output) and its result, with its timings, at the end. Blocking.
 */
@ApplicationScoped
public class RequestExecution {

    private static final Logger LOG = Logger.getLogger(RequestExecution.class);

    private final Pools pools;
    private final ClaimKeeper claims;
    private final EventPublisher events;
    private final WorkerMetrics metrics;
    private final Sessions sessions;
    private final StoredFiles storedFiles;
    private final WorkerConfig config;
    private final String workerId;
    /** Ends output batches that wait for more output, and sends the started event of a run that outlasts its first tick. */
    private final ScheduledExecutorService timer =
            Executors.newScheduledThreadPool(1, DaemonThreads.named("execfarm-request-timer"));

    public RequestExecution(Pools pools, ClaimKeeper claims, EventPublisher events, WorkerMetrics metrics,
            Sessions sessions, StoredFiles storedFiles, WorkerConfig config, WorkerId workerId) {
        this.pools = pools;
        this.claims = claims;
        this.events = events;
        this.metrics = metrics;
        this.sessions = sessions;
        this.storedFiles = storedFiles;
        this.config = config;
        this.workerId = workerId.value();
    }

    void stop(@Observes ShutdownEvent event) {
        timer.shutdownNow();
    }

    /**
     * A request's result, the output it published, and whether it is in Redis already (a session
     * request stores it with its history entry; one whose claim was taken over is settled by the
     * delivery that took it).
     */
    record Answer(Result result, boolean stored, long outputBytes) {

        static final Answer TAKEN_OVER = new Answer(null, true, 0);

        static Answer unstored(Result result) {
            return new Answer(result, false, 0);
        }
    }

    /** One delivery of a request to this worker: when it was sent and taken, its number, its claim and its trace. */
    record Delivered(Instant recordTime, Instant taken, int attempt, String holder, ExecutionTrace trace) {
    }

    /**
     * Runs the request. A session request's result is recorded with its history entry only while
     * its claim holds; one taken over meanwhile is {@link Answer#takenOver}.
     */
    Answer execute(String runtime, ExecutionRequest request, Delivered delivered, CancelSignal cancel) {
        String id = request.id();
        int attempt = delivered.attempt();
        ExecutionTrace trace = delivered.trace();
        String traceId = trace.traceId();
        Instant taken = delivered.taken();
        Instant submitted = request.submittedAt() != null ? request.submittedAt() : delivered.recordTime();
        trace.queued(submitted, taken);
        long queuedMs = Math.max(0, Duration.between(submitted, taken).toMillis());
        if (request.expiredAt(taken)) {
            metrics.executed(runtime, Result.Status.EXPIRED, queuedMs, 0);
            return Answer.unstored(new Result(id, Result.Status.EXPIRED, null, new Result.ErrorInfo("Expired",
                    "not run: a worker took it at " + taken + ", after its startBy of " + request.startBy()
                            + ", when its sender had stopped waiting for it", null),
                    false, new Result.Timings(queuedMs, 0, 0, queuedMs), workerId, attempt, traceId));
        }
        PoolExecutor executor = pools.executor(runtime).orElse(null);
        if (executor == null) {
            return Answer.unstored(Result.rejected(id, workerId, "RuntimeUnavailable",
                    "this worker cannot run " + runtime + ": " + pools.unavailable().get(runtime)).withTraceId(traceId));
        }
        List<InputFile> files;
        try {
            files = storedFiles.resolve(request.tenant(), request.files());
        } catch (StoredFiles.Refused e) {
            return Answer.unstored(Result.rejected(id, workerId, e.type(), e.getMessage()).withTraceId(traceId));
        }
        SessionStore.Opening.Open opened = null;
        if (request.session() != null) {
            SessionStore.Opening opening = sessions.open(request);
            if (opening instanceof SessionStore.Opening.Refused refused) {
                return Answer.unstored(Result.rejected(id, workerId, refused.errorType(), refused.message())
                        .withTraceId(traceId));
            }
            opened = (SessionStore.Opening.Open) opening;
        }
        try {
            if (cancel.isCancelled()) {
                metrics.executed(runtime, Result.Status.CANCELLED, queuedMs, 0);
                trace.cancelled();
                ExecutionOutcome cancelled = ExecutionOutcome.cancelledBeforeStart();
                return Answer.unstored(new Result(id, cancelled.status(), null, cancelled.error(), false,
                        new Result.Timings(queuedMs, 0, 0, queuedMs), workerId, attempt, traceId));
            }
            Context traced = trace.context();
            events.prepare(request.replyTo());
            EventsBeforeResult published = new EventsBeforeResult(event -> events.publish(request.replyTo(), event, traced));
            published.startedAfter(new Started(id, workerId, queuedMs), config.outputBatch().linger(), timer);
            OutputBatcher output = new OutputBatcher(id, config.outputBatch().maxChars(), config.outputBatch().linger(),
                    timer, published::publish);
            ExecutionSpec spec = new ExecutionSpec(id, request.code(), request.session(),
                    Math.min(request.limits().maxOutputBytes(), config.maxOutputBytes().asLongValue()),
                    Duration.ofMillis(request.timeoutMs()), files, request.collect(), fileLimits());
            SessionProcesses.Run sessionRun = null;
            TimedOutcome timed;
            Instant processStart = Instant.now();
            try {
                if (request.session() == null) {
                    timed = executor.execute(spec, request.tenant(), output, cancel);
                } else {
                    sessionRun = sessions.execute(request, opened, spec, output, cancel);
                    timed = sessionRun.timed();
                    if (sessionRun.replayed() > 0) {
                        trace.sessionRebuilt(sessionRun.replayed());
                    }
                }
                output.flush();
            } finally {
                published.runEnded();
            }
            if (!published.awaitSettled(ResultDelivery.PUBLISH_TIMEOUT)) {
                LOG.warnf("the broker had not acknowledged the output of %s after %s; answering it anyway", id,
                        ResultDelivery.PUBLISH_TIMEOUT);
            }
            trace.processTimes(processStart, timed.acquireNanos(), timed.execNanos());
            ExecutionOutcome outcome = timed.outcome();
            if (outcome.status() == Result.Status.CANCELLED) {
                trace.cancelled();
            }
            long acquireMs = TimeUnit.NANOSECONDS.toMillis(timed.acquireNanos());
            long execMs = TimeUnit.NANOSECONDS.toMillis(timed.execNanos());
            long totalMs = queuedMs + Duration.between(taken, Instant.now()).toMillis();
            metrics.executed(runtime, outcome.status(), queuedMs, timed.execNanos());
            metrics.answered(runtime, totalMs);
            countSandboxKills(runtime, outcome);
            List<CollectedFile> collected;
            try {
                collected = storedFiles.keep(request.tenant(), outcome.files());
            } catch (GaveUp e) {
                if (sessionRun != null) {
                    sessions.abandon(request, sessionRun);
                }
                throw e;
            }
            Result result = new Result(id, outcome.status(), outcome.value(), outcome.error(), outcome.truncated(),
                    new Result.Timings(queuedMs, acquireMs, execMs, totalMs), workerId, attempt, traceId, collected);
            if (sessionRun == null) {
                return new Answer(result, false, output.publishedBytes());
            }
            return recordInSession(request, sessionRun, result, delivered.holder(), output.publishedBytes());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Answer.unstored(new Result(id, Result.Status.CRASHED, null,
                    new Result.ErrorInfo("WorkerStopping", "the worker stopped while running the request", null),
                    false, Result.Timings.NONE, workerId, attempt, traceId));
        }
    }

    private FileLimits fileLimits() {
        WorkerConfig.Files files = config.files();
        return new FileLimits(files.maxFileBytes().asLongValue(), files.maxRequestBytes().asLongValue(), files.maxFiles());
    }

    private void countSandboxKills(String runtime, ExecutionOutcome outcome) {
        if (outcome.error() != null && ExecutionOutcome.MEMORY_LIMIT_EXCEEDED.equals(outcome.error().type())) {
            metrics.sandboxKill(runtime, WorkerMetrics.SandboxLimit.MEMORY);
        }
        if (outcome.taskLimitHit()) {
            metrics.sandboxKill(runtime, WorkerMetrics.SandboxLimit.TASKS);
        }
        if (outcome.status() == Result.Status.TIMEOUT) {
            metrics.sandboxKill(runtime, WorkerMetrics.SandboxLimit.TIMEOUT);
        }
    }

    /** Records a session request's result with its history entry, while its claim holds. */
    private Answer recordInSession(ExecutionRequest request, SessionProcesses.Run run, Result result, String holder,
            long outputBytes) {
        boolean held;
        try {
            held = claims.confirm(request.id(), holder);
        } catch (GaveUp e) {
            sessions.abandon(request, run);
            throw e;
        }
        if (!held) {
            sessions.abandon(request, run);
            return Answer.TAKEN_OVER;
        }
        sessions.record(request, run, result);
        return new Answer(result, true, outputBytes);
    }
}
