package io.execfarm.worker.messaging;

import io.execfarm.contracts.ExecutionRequest;
import io.execfarm.contracts.Result;
import io.execfarm.worker.config.WorkerId;
import io.execfarm.worker.delivery.ClaimKeeper;
import io.execfarm.worker.delivery.RequestLedger;
import io.execfarm.worker.delivery.Retries;
import io.execfarm.worker.delivery.Retries.GaveUp;
import io.execfarm.worker.messaging.RequestRecord.Disposition;
import io.execfarm.worker.metrics.WorkerMetrics;
import io.execfarm.worker.session.Sessions;
import io.execfarm.worker.tracing.ExecutionTrace;
import io.execfarm.worker.tracing.RequestTracing;
import io.opentelemetry.context.Context;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * A request's answer, stored and published once for both delivery modes: a result stored in Redis
 * and published on its reply topic, an answer from the ledger for a delivery of a request answered
 * before, and the error result of a record that goes to the dead-letter topic.
 */
@ApplicationScoped
public class ResultDelivery {

    private static final Logger LOG = Logger.getLogger(ResultDelivery.class);
    /**
     * Longer than the replies producer's own retries (delivery.timeout.ms, 2 min here): a publish is
     * retried here only after the producer itself gave up, so a slow broker does not get the same
     * result twice.
     */
    static final Duration PUBLISH_TIMEOUT = Duration.ofMinutes(3);
    /** An error result about a reply that could not be written gets one short try. */
    private static final Duration ERROR_RESULT_TIMEOUT = Duration.ofSeconds(10);

    private final RequestLedger ledger;
    private final ClaimKeeper claims;
    private final Sessions sessions;
    private final EventPublisher events;
    private final WorkerMetrics metrics;
    private final Retries retries;
    private final PublishedResults publishedResults;
    private final RequestTracing tracing;
    private final String workerId;

    public ResultDelivery(RequestLedger ledger, ClaimKeeper claims, Sessions sessions, EventPublisher events,
            WorkerMetrics metrics, Retries retries, PublishedResults publishedResults, RequestTracing tracing,
            WorkerId workerId) {
        this.ledger = ledger;
        this.claims = claims;
        this.sessions = sessions;
        this.events = events;
        this.metrics = metrics;
        this.retries = retries;
        this.publishedResults = publishedResults;
        this.tracing = tracing;
        this.workerId = workerId.value();
    }

    Result crashed(String id, int attempt, String errorType, String message) {
        return new Result(id, Result.Status.CRASHED, null, new Result.ErrorInfo(errorType, message, null), false,
                Result.Timings.NONE, workerId, attempt);
    }

    /**
     * A result Redis would not take is still published: its sender gets it, at the cost of running
     * it again should the same record be delivered again.
     */
    void storeOrWarn(Result result) {
        try {
            retries.run("storing the result of " + result.requestId(), () -> ledger.storeResult(result));
        } catch (GaveUp e) {
            LOG.errorf("%s; publishing it anyway", e.getMessage());
        }
    }

    /**
     * Publishes a request's result, its tenant's count in flight ended first: a tenant told to send
     * again "when one finishes" may send the moment it sees a result, and must then be admitted. A
     * worker lost between the two leaves the request uncounted until its redelivery answers it, a
     * tenant over its limit by one for that while; the other order left it told "too many" for a
     * request already answered. Where Redis is away the count ends at its score.
     */
    void publishAnswer(ExecutionRequest request, Result result, Context traced) {
        leaveInFlight(request);
        publishOrGiveUp(request.replyTo(), result, traced);
    }

    /** Where Redis stays away, the request counts until its deadline. */
    private void leaveInFlight(ExecutionRequest request) {
        try {
            retries.run("ending the count in flight of " + request.id(), () -> ledger.leaveInFlight(request.tenant(), request.id()));
        } catch (GaveUp e) {
            LOG.warnf("%s; it counts until its deadline", e.getMessage());
        }
    }

    /**
     * Publishes a result and waits for the broker's acknowledgement. A reply topic that cannot take
     * it (absent without auto-creation, not writable, too small a record limit) makes the request
     * {@link Unanswered}, with an error result that may still fit.
     */
    void publishOrGiveUp(String replyTo, Result result, Context traced) {
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
     * A session's request is first recorded in the session, should its worker have died between
     * storing the result and recording it.
     */
    void answerFromLedger(ExecutionRequest request, RequestLedger.Delivery delivery, String holder,
            Instant recordTime, ExecutionTrace trace) {
        if (delivery.published()) {
            leaveInFlight(request);
            LOG.debugf("%s was delivered again (attempt %d) and is already answered", request.id(), delivery.attempt());
            trace.end("answered-before");
            return;
        }
        if (alreadyOnReplyTopic(request, recordTime)) {
            LOG.infof("%s was answered and its result is on %s, though never marked published; marking it now",
                    request.id(), request.replyTo());
            leaveInFlight(request);
            claims.finish(request.id(), holder, true);
            trace.end("answered-before");
            return;
        }
        LOG.infof("%s was answered but not published before; publishing it from Redis (attempt %d)", request.id(),
                delivery.attempt());
        Result result = delivery.result().orElseThrow().withAttempt(delivery.attempt());
        if (request.session() != null) {
            sessions.recordInHistory(request, result);
        }
        publishAnswer(request, result, trace.context());
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
    Disposition deadLetter(String runtime, RequestRecord record, String reason, String replyTo,
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
