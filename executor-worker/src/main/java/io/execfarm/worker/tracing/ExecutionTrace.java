package io.execfarm.worker.tracing;

import io.execfarm.contracts.Result;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The worker's span of one delivery of a request ({@code execfarm.execution}) and its children:
 * the time queued in Kafka, the claim, the wait for a warm process, the run in the runtime and the
 * result's publish. Steps timed elsewhere (the pool times its own acquire and run) are recorded
 * afterwards with their measured start and end, so the pool knows nothing of tracing.
 */
public final class ExecutionTrace {

    private static final AttributeKey<Long> SNIPPETS_REPLAYED =
            AttributeKey.longKey("execfarm.session.snippets.replayed");

    private final Tracer tracer;
    private final Span span;
    private final Context context;
    private boolean ended;

    ExecutionTrace(Tracer tracer, Span span) {
        this.tracer = tracer;
        this.span = span;
        this.context = Context.root().with(span);
    }

    /** The context events and child spans of this execution are published under. */
    public Context context() {
        return context;
    }

    /** The trace's id, or null where nothing is traced. */
    public String traceId() {
        return RequestTracing.traceId(context);
    }

    /** From the request's submission (or its record's timestamp) to this worker taking it. */
    public void queued(Instant submitted, Instant taken) {
        tracer.spanBuilder("execfarm.queued").setParent(context)
                .setStartTimestamp(submitted.isBefore(taken) ? submitted : taken)
                .startSpan()
                .end(taken);
    }

    /**
     * Runs {@code work} in a child span named {@code name}, giving it that span's context; a failure
     * is recorded on the span and rethrown.
     */
    public <T> T step(String name, Function<Context, T> work) {
        Span step = tracer.spanBuilder(name).setParent(context).startSpan();
        try {
            return work.apply(context.with(step));
        } catch (RuntimeException e) {
            step.recordException(e);
            step.setStatus(StatusCode.ERROR, e.getMessage());
            throw e;
        } finally {
            step.end();
        }
    }

    /**
     * The wait for a warm process (with any session rebuild) and the run in the runtime, as the
     * pool measured them, from {@code start}.
     */
    public void processTimes(Instant start, long acquireNanos, long execNanos) {
        long startEpochNanos = TimeUnit.SECONDS.toNanos(start.getEpochSecond()) + start.getNano();
        tracer.spanBuilder("execfarm.acquire").setParent(context)
                .setStartTimestamp(startEpochNanos, TimeUnit.NANOSECONDS).startSpan()
                .end(startEpochNanos + acquireNanos, TimeUnit.NANOSECONDS);
        if (execNanos > 0) {
            tracer.spanBuilder("execfarm.run").setParent(context)
                    .setStartTimestamp(startEpochNanos + acquireNanos, TimeUnit.NANOSECONDS).startSpan()
                    .end(startEpochNanos + acquireNanos + execNanos, TimeUnit.NANOSECONDS);
        }
    }

    /** This delivery is number {@code attempt} of the request: an earlier one's worker died or gave it up. */
    public void redelivered(int attempt) {
        span.addEvent("execfarm.redelivered", Attributes.of(RequestTracing.ATTEMPT, (long) attempt));
    }

    public void cancelled() {
        span.addEvent("execfarm.cancelled");
    }

    /** The session's process was rebuilt (or caught up) by replaying {@code snippets} of its history. */
    public void sessionRebuilt(long snippets) {
        span.addEvent("execfarm.session.rebuilt", Attributes.of(SNIPPETS_REPLAYED, snippets));
    }

    /** Ends the span with the result it produced. */
    public void end(Result result, long outputBytes) {
        if (ended) {
            return;
        }
        ended = true;
        span.setAttribute(RequestTracing.ATTEMPT, (long) result.attempt());
        span.setAttribute(RequestTracing.STATUS, result.status().wireName());
        span.setAttribute(RequestTracing.OUTPUT_BYTES, outputBytes);
        if (result.error() != null) {
            span.setAttribute(RequestTracing.ERROR_TYPE, result.error().type());
        }
        if (result.status() != Result.Status.OK) {
            span.setStatus(StatusCode.ERROR, result.status().wireName());
        }
        span.end();
    }

    /**
     * Ends the span of a delivery that produced no result of its own: answered before, taken over,
     * dead-lettered or failed. A span ended already stays as it was.
     */
    public void end(String outcome) {
        if (ended) {
            return;
        }
        ended = true;
        span.setAttribute(RequestTracing.STATUS, outcome);
        span.end();
    }
}
