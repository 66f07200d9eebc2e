package io.execfarm.worker.messaging;

import io.execfarm.contracts.ExecutionRequest;
import io.execfarm.contracts.Result;
import io.execfarm.worker.cancel.CancelRegistry;
import io.execfarm.worker.config.WorkerId;
import io.execfarm.worker.delivery.ClaimKeeper;
import io.execfarm.worker.delivery.RequestLedger;
import io.execfarm.worker.delivery.Retries.GaveUp;
import io.execfarm.worker.messaging.RequestRecord.Disposition;
import io.execfarm.worker.pool.CancelSignal;
import io.execfarm.worker.tracing.ExecutionTrace;
import io.execfarm.worker.tracing.RequestTracing;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;

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

    private final RequestRules rules;
    private final RequestExecution execution;
    private final ResultDelivery results;
    private final ClaimKeeper claims;
    private final CancelRegistry cancels;
    private final RequestTracing tracing;
    private final String workerId;

    public RequestHandler(RequestRules rules, RequestExecution execution, ResultDelivery results, ClaimKeeper claims,
            CancelRegistry cancels, RequestTracing tracing, WorkerId workerId) {
        this.rules = rules;
        this.execution = execution;
        this.results = results;
        this.claims = claims;
        this.cancels = cancels;
        this.tracing = tracing;
        this.workerId = workerId.value();
    }

    /**
     * Runs the request {@code record} carries and publishes its result; a record that cannot be run
     * is answered with an error result where its sender is known, and is to be dead-lettered.
     */
    public Disposition handle(String runtime, RequestRecord record) {
        RequestRules.Decoded decoded = rules.decode(runtime, record);
        if (decoded instanceof RequestRules.Decoded.Refused refused) {
            return results.deadLetter(runtime, record, refused.reason(), refused.replyTo(), refused.errorResult());
        }
        ExecutionRequest request = ((RequestRules.Decoded.Runnable) decoded).request();
        ExecutionTrace trace = tracing.start(record.sender(), record.partition(), request);
        try {
            run(runtime, request, record, trace);
        } catch (Unanswered e) {
            trace.end("dead-lettered");
            return results.deadLetter(runtime, record, e.getMessage(), e.errorResult() != null ? request.replyTo() : null,
                    e.errorResult());
        } finally {
            trace.end("failed");
        }
        return Disposition.ANSWERED;
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
                results.answerFromLedger(request, delivery, claimed.holder(), recordTime, trace);
                return;
            }
            if (delivery.cancelled()) {
                cancel.cancel();
            }
            try {
                RequestExecution.Answer answer = execution.execute(runtime, request, new RequestExecution.Delivered(recordTime, taken, delivery.attempt(),
                        claimed.holder(), trace), cancel);
                if (answer == RequestExecution.Answer.TAKEN_OVER || !answer.stored() && !claims.confirm(id, claimed.holder())) {
                    trace.end("taken-over");
                    return;
                }
                if (!answer.stored()) {
                    results.storeOrWarn(answer.result());
                }
                trace.step("execfarm.publish.result", traced -> {
                    results.publishAnswer(request, answer.result(), traced);
                    return null;
                });
                claims.finish(id, claimed.holder(), true);
                trace.end(answer.result(), answer.outputBytes());
            } catch (GaveUp e) {
                throw new Unanswered(e.getMessage(), e.outlasted()
                        ? results.crashed(id, delivery.attempt(), "FarmUnavailable", "Redis stayed unreachable: " + e.getMessage())
                        : results.crashed(id, delivery.attempt(), "FarmError", "the farm's own state in Redis could not be "
                                + "used for this request: " + e.getMessage()));
            }
        } finally {
            cancels.unregister(id, cancel);
            if (claimed != null && claims.holds(id, claimed.holder())) {
                claims.finish(id, claimed.holder(), false);
            }
        }
    }
}
