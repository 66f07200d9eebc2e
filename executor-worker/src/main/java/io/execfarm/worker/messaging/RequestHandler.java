package io.execfarm.worker.messaging;

import io.execfarm.contracts.ExecutionRequest;
import io.execfarm.contracts.MalformedMessageException;
import io.execfarm.contracts.Result;
import io.execfarm.contracts.Started;
import io.execfarm.contracts.Topics;
import io.execfarm.contracts.WireCodec;
import io.execfarm.worker.cancel.CancelRegistry;
import io.execfarm.worker.config.WorkerConfig;
import io.execfarm.worker.config.WorkerId;
import io.execfarm.worker.delivery.ClaimKeeper;
import io.execfarm.worker.delivery.RequestLedger;
import io.execfarm.worker.delivery.Retries;
import io.execfarm.worker.delivery.Retries.GaveUp;
import io.execfarm.worker.messaging.RequestRecord.Disposition;
import io.execfarm.worker.metrics.WorkerMetrics;
import io.execfarm.worker.pool.CancelSignal;
import io.execfarm.worker.pool.PoolExecutor;
import io.execfarm.worker.pool.Pools;
import io.execfarm.worker.pool.TimedOutcome;
import io.execfarm.worker.runtime.ExecutionOutcome;
import io.execfarm.worker.runtime.ExecutionSpec;
import io.execfarm.worker.session.SessionProcesses;
import io.execfarm.worker.session.SessionStore;
import io.execfarm.worker.session.Sessions;
import io.execfarm.worker.threads.DaemonThreads;
import io.execfarm.worker.tracing.ExecutionTrace;
import io.execfarm.worker.tracing.RequestTracing;
import io.opentelemetry.context.Context;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * Runs one request from Kafka to its result. Called on a worker thread (it blocks on the process
 * and on Redis); returns once the result was acknowledged by the broker, so the record is
 * acknowledged (its offset committed, or its share-group delivery accepted) only after that.
 *
 * <p>Delivery is at-least-once and a request runs once: every delivery is counted, the worker
 * running a request holds a claim in Redis that it renews while the request runs, a worker that
 * receives a claimed request waits for the claim to end (a hard-stopped worker's claim lapses within
 * {@code claim-ttl}), and a request whose result is already in Redis is answered from there. A
 * result is published once per request id: a redelivery of an answered request publishes nothing
 * new; one answered but not yet published (the worker died in between) is published from Redis,
 * with its attempt number.
 */
@ApplicationScoped
public class RequestHandler {

    private static final Logger LOG = Logger.getLogger(RequestHandler.class);
    /**
     * Longer than the replies producer's own retries (delivery.timeout.ms, 2 min here): a publish is
     * retried here only after the producer itself gave up, so a slow broker does not get the same
     * result twice.
     */
    private static final Duration PUBLISH_TIMEOUT = Duration.ofMinutes(3);
    /** An error result about a reply that could not be written gets one short try. */
    private static final Duration ERROR_RESULT_TIMEOUT = Duration.ofSeconds(10);

    private final WireCodec codec;
    private final Pools pools;
    private final RequestLedger ledger;
    private final ClaimKeeper claims;
    private final EventPublisher events;
    private final CancelRegistry cancels;
    private final WorkerMetrics metrics;
    private final Sessions sessions;
    private final WorkerConfig config;
    private final Retries retries;
    private final PublishedResults publishedResults;
    private final RequestTracing tracing;
    private final String workerId;
    /** Ends output batches that wait for more output. */
    private final ScheduledExecutorService timer =
            Executors.newScheduledThreadPool(1, DaemonThreads.named("execfarm-request-timer"));

    public RequestHandler(WireCodec codec, Pools pools, RequestLedger ledger, ClaimKeeper claims, EventPublisher events,
            CancelRegistry cancels, WorkerMetrics metrics, Sessions sessions, WorkerConfig config, Retries retries,
            PublishedResults publishedResults, RequestTracing tracing, WorkerId workerId) {
        this.codec = codec;
        this.tracing = tracing;
        this.publishedResults = publishedResults;
        this.retries = retries;
        this.pools = pools;
        this.ledger = ledger;
        this.claims = claims;
        this.events = events;
        this.cancels = cancels;
        this.metrics = metrics;
        this.sessions = sessions;
        this.config = config;
        this.workerId = workerId.value();
    }

    void stop(@Observes ShutdownEvent event) {
        timer.shutdownNow();
    }

    /**
     * Runs the request {@code record} carries and publishes its result; a record that cannot be run
     * is answered with an error result where its sender is known, and is to be dead-lettered.
     */
    public Disposition handle(String runtime, RequestRecord record) {
        ExecutionRequest request;
        try {
            request = codec.decodeRequest(record.payload());
        } catch (MalformedMessageException e) {
            return deadLetter(runtime, record, e.getMessage(), e.replyTo().orElse(null),
                    e.requestId().map(id -> Result.rejected(id, workerId, "MalformedRequest", e.getMessage())).orElse(null));
        }
        boolean shared = record.topic().equals(Topics.sharedRequests(runtime));
        if (shared && request.session() != null) {
            String reason = "a request with a session was published to " + record.topic()
                    + ", whose requests run in no order; publish it to " + Topics.requests(runtime)
                    + ", where a session's requests run in order";
            return deadLetter(runtime, record, reason, request.replyTo(),
                    Result.rejected(request.id(), workerId, "SessionOnSharedTopic", reason));
        }
        if (!request.runtime().equals(runtime)) {
            String rightTopic = shared ? Topics.sharedRequests(request.runtime()) : Topics.requests(request.runtime());
            String reason = "a " + request.runtime() + " request was published to " + record.topic()
                    + "; publish it to " + rightTopic;
            return deadLetter(runtime, record, reason, request.replyTo(),
                    Result.rejected(request.id(), workerId, "WrongRuntime", reason));
        }
        ExecutionTrace trace = tracing.start(record.sender(), record.partition(), request);
        try {
            run(runtime, request, record, trace);
        } catch (Unanswered e) {
            trace.end("dead-lettered");
            return deadLetter(runtime, record, e.getMessage(), e.errorResult != null ? request.replyTo() : null,
                    e.errorResult);
        } finally {
            trace.end("failed");
        }
        return Disposition.ANSWERED;
    }

    /**
     * A request the worker gave up on ({@link GaveUp}): it goes to the dead-letter topic, and its
     * sender gets {@code errorResult} when there is one to send.
     */
    private static final class Unanswered extends RuntimeException {

        private final transient Result errorResult;

        Unanswered(String reason, Result errorResult) {
            super(reason, null, false, false);
            this.errorResult = errorResult;
        }
    }

    private void run(String runtime, ExecutionRequest request, RequestRecord record, ExecutionTrace trace) {
        String id = request.id();
        Instant recordTime = record.timestamp();
        // Taken now: the ledger's bookkeeping below is the worker's time, not the queue's.
        Instant taken = Instant.now();
        // Registered before Redis is read: a cancel is then either marked there already or signalled here.
        CancelSignal cancel = cancels.register(id);
        ClaimKeeper.Claimed claimed = null;
        try {
            try {
                claimed = trace.step("execfarm.claim", traced -> claims.claim(id, record.deliveryCount()));
            } catch (GaveUp e) {
                throw new Unanswered(e.getMessage(), Result.rejected(id, workerId, "FarmUnavailable",
                        "the request was not run: " + e.getMessage()));
            }
            RequestLedger.Delivery delivery = claimed.delivery();
            if (delivery.attempt() > 1) {
                trace.redelivered(delivery.attempt());
            }
            if (delivery.result().isPresent()) {
                answerFromLedger(request, delivery, claimed.holder(), recordTime, trace);
                return;
            }
            if (delivery.cancelled()) {
                cancel.cancel();
            }
            try {
                Answer answer = execute(runtime, request, new Delivered(recordTime, taken, delivery.attempt(),
                        claimed.holder(), trace), cancel);
                if (answer == Answer.TAKEN_OVER || !answer.stored() && !claims.confirm(id, claimed.holder())) {
                    trace.end("taken-over");
                    return;
                }
                if (!answer.stored()) {
                    storeOrWarn(answer.result());
                }
                trace.step("execfarm.publish.result", traced -> {
                    publishOrGiveUp(request.replyTo(), answer.result(), traced);
                    return null;
                });
                claims.finish(id, claimed.holder(), true);
                trace.end(answer.result(), answer.outputBytes());
            } catch (GaveUp e) {
                throw new Unanswered(e.getMessage(), e.outlasted()
                        ? crashed(id, delivery.attempt(), "FarmUnavailable", "Redis stayed unreachable: " + e.getMessage())
                        : crashed(id, delivery.attempt(), "FarmError", "the farm's own state in Redis could not be "
                                + "used for this request: " + e.getMessage()));
            }
        } finally {
            cancels.unregister(id, cancel);
            if (claimed != null && claims.holds(id, claimed.holder())) {
                claims.finish(id, claimed.holder(), false);
            }
        }
    }

    private Result crashed(String id, int attempt, String errorType, String message) {
        return new Result(id, Result.Status.CRASHED, null, new Result.ErrorInfo(errorType, message, null), false,
                Result.Timings.NONE, workerId, attempt);
    }

    /**
     * A request's result, the output it published, and whether it is in Redis already (a session
     * request stores it with its history entry; one whose claim was taken over is settled by the
     * delivery that took it).
     */
    private record Answer(Result result, boolean stored, long outputBytes) {

        static final Answer TAKEN_OVER = new Answer(null, true, 0);

        static Answer unstored(Result result) {
            return new Answer(result, false, 0);
        }
    }

    /** One delivery of a request to this worker: when it was sent and taken, its number, its claim and its trace. */
    private record Delivered(Instant recordTime, Instant taken, int attempt, String holder, ExecutionTrace trace) {
    }

    /**
     * Runs the request. A session request's result is recorded with its history entry only while
     * its claim holds; one taken over meanwhile is {@link Answer#takenOver}.
     */
    private Answer execute(String runtime, ExecutionRequest request, Delivered delivered, CancelSignal cancel) {
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
        long snippets = 0;
        if (request.session() != null) {
            SessionStore.Opening opening = sessions.open(request);
            if (opening instanceof SessionStore.Opening.Refused refused) {
                return Answer.unstored(Result.rejected(id, workerId, refused.errorType(), refused.message())
                        .withTraceId(traceId));
            }
            snippets = ((SessionStore.Opening.Open) opening).snippets();
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
                    Duration.ofMillis(request.timeoutMs()));
            SessionProcesses.Run sessionRun = null;
            TimedOutcome timed;
            Instant processStart = Instant.now();
            try {
                if (request.session() == null) {
                    timed = executor.execute(spec, request.tenant(), output, cancel);
                } else {
                    sessionRun = sessions.execute(request, snippets, spec, output, cancel);
                    timed = sessionRun.timed();
                    if (sessionRun.replayed() > 0) {
                        trace.sessionRebuilt(sessionRun.replayed());
                    }
                }
                output.flush();
            } finally {
                published.runEnded();
            }
            if (!published.awaitSettled(PUBLISH_TIMEOUT)) {
                LOG.warnf("the broker had not acknowledged the output of %s after %s; answering it anyway", id,
                        PUBLISH_TIMEOUT);
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
            Result result = new Result(id, outcome.status(), outcome.value(), outcome.error(), outcome.truncated(),
                    new Result.Timings(queuedMs, acquireMs, execMs, totalMs), workerId, attempt, traceId);
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

    /**
     * A result Redis would not take is still published: its sender gets it, at the cost of running
     * it again should the same record be delivered again.
     */
    private void storeOrWarn(Result result) {
        try {
            retries.run("storing the result of " + result.requestId(), () -> ledger.storeResult(result));
        } catch (GaveUp e) {
            LOG.errorf("%s; publishing it anyway", e.getMessage());
        }
    }

    /**
     * Publishes a result and waits for the broker's acknowledgement. A reply topic that cannot take
     * it (absent without auto-creation, not writable, too small a record limit) makes the request
     * {@link Unanswered}, with an error result that may still fit.
     */
    private void publishOrGiveUp(String replyTo, Result result, Context traced) {
        events.prepare(replyTo);
        try {
            retries.run("publishing the result of " + result.requestId() + " to " + replyTo,
                    () -> events.publish(replyTo, result, traced).await().atMost(PUBLISH_TIMEOUT));
        } catch (GaveUp e) {
            throw new Unanswered(e.getMessage(), crashed(result.requestId(), result.attempt(), "ResultUndeliverable",
                    "the request ran (status " + result.status().wireName() + ") but its result could not be written to "
                            + replyTo + ": " + e.getCause()));
        }
    }

    /**
     * Answers a delivery of a request that finished before, from its stored result, unless it was
     * published: marked so, or found on the reply topic though its worker died before marking it.
     */
    private void answerFromLedger(ExecutionRequest request, RequestLedger.Delivery delivery, String holder,
            Instant recordTime, ExecutionTrace trace) {
        if (delivery.published()) {
            LOG.debugf("%s was delivered again (attempt %d) and is already answered", request.id(), delivery.attempt());
            trace.end("answered-before");
            return;
        }
        if (alreadyOnReplyTopic(request, recordTime)) {
            LOG.infof("%s was answered and its result is on %s, though never marked published; marking it now",
                    request.id(), request.replyTo());
            claims.finish(request.id(), holder, true);
            trace.end("answered-before");
            return;
        }
        LOG.infof("%s was answered but not published before; publishing it from Redis (attempt %d)", request.id(),
                delivery.attempt());
        Result result = delivery.result().orElseThrow().withAttempt(delivery.attempt());
        publishOrGiveUp(request.replyTo(), result, trace.context());
        claims.finish(request.id(), holder, true);
        trace.end(result, 0);
    }

    /** Where the reply topic cannot be read now, the result is published again: twice rather than never. */
    private boolean alreadyOnReplyTopic(ExecutionRequest request, Instant recordTime) {
        Instant sent = request.submittedAt() != null && request.submittedAt().isBefore(recordTime)
                ? request.submittedAt() : recordTime;
        try {
            return publishedResults.contains(request.replyTo(), request.id(), sent);
        } catch (RuntimeException e) {
            LOG.warnf("could not tell whether the result of %s is on %s already: %s", request.id(), request.replyTo(),
                    e.toString());
            return false;
        }
    }

    /**
     * Sends the record to the dead-letter topic with {@code reason}; first answers its sender with
     * {@code errorResult} where one and a reply topic are known, unless the ledger says it was
     * answered before (the record comes back when its dead letter could not be written). The answer
     * is stored and marked published, so a redelivery of the record does not answer it twice.
     */
    private Disposition deadLetter(String runtime, RequestRecord record, String reason, String replyTo,
            Result errorResult) {
        LOG.warnf("dead letter from %s partition %d offset %d (key %s): %s", record.topic(), record.partition(),
                record.offset(), record.key(), reason);
        metrics.deadLettered(runtime);
        Context traced = tracing.deadLettered(record.sender(), runtime, reason);
        if (replyTo == null || errorResult == null) {
            return new Disposition.DeadLettered(reason);
        }
        if (answeredBefore(errorResult.requestId())) {
            LOG.infof("%s was answered before; its record is only dead-lettered this time", errorResult.requestId());
            return new Disposition.DeadLettered(reason);
        }
        Result answer = errorResult.withTraceId(RequestTracing.traceId(traced));
        storeOrWarn(answer);
        try {
            events.publish(replyTo, answer, traced).await().atMost(ERROR_RESULT_TIMEOUT);
            // The request's own delivery, if any, released its claim already; only the published mark is set.
            claims.finish(answer.requestId(), "", true);
        } catch (RuntimeException e) {
            LOG.errorf("could not answer %s on %s either: %s", answer.requestId(), replyTo, e.toString());
        }
        return new Disposition.DeadLettered(reason);
    }

    /** Where Redis cannot tell, the error result is published again: twice rather than never. */
    private boolean answeredBefore(String requestId) {
        try {
            return retries.call("asking whether " + requestId + " was answered", () -> ledger.published(requestId));
        } catch (GaveUp e) {
            LOG.warnf("%s", e.getMessage());
            return false;
        }
    }
}
