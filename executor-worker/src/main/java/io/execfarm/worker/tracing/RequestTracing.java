package io.execfarm.worker.tracing;

import io.execfarm.contracts.ExecutionRequest;
import io.execfarm.worker.config.WorkerId;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.smallrye.reactive.messaging.TracingMetadata;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.reactive.messaging.Message;

/**
 * Opens the worker's spans of a request. The Kafka connector has already continued the sender's
 * trace from the record's {@code traceparent} header with its receive span; the worker's spans
 * hang under that one. With the OpenTelemetry SDK disabled (the default) every span is a no-op.
 */
@ApplicationScoped
public class RequestTracing {

    static final AttributeKey<String> RUNTIME = AttributeKey.stringKey("execfarm.runtime");
    static final AttributeKey<String> TENANT = AttributeKey.stringKey("execfarm.tenant");
    static final AttributeKey<String> SESSION = AttributeKey.stringKey("execfarm.session");
    static final AttributeKey<String> WORKER = AttributeKey.stringKey("execfarm.worker");
    static final AttributeKey<String> REQUEST = AttributeKey.stringKey("execfarm.request.id");
    static final AttributeKey<Long> PARTITION = AttributeKey.longKey("messaging.destination.partition.id");
    static final AttributeKey<Long> ATTEMPT = AttributeKey.longKey("execfarm.attempt");
    static final AttributeKey<String> STATUS = AttributeKey.stringKey("execfarm.status");
    static final AttributeKey<String> ERROR_TYPE = AttributeKey.stringKey("error.type");
    static final AttributeKey<Long> OUTPUT_BYTES = AttributeKey.longKey("execfarm.output.bytes");
    static final AttributeKey<String> REASON = AttributeKey.stringKey("execfarm.dead.letter.reason");

    private final Tracer tracer;
    private final String workerId;

    public RequestTracing(Tracer tracer, WorkerId workerId) {
        this.tracer = tracer;
        this.workerId = workerId.value();
    }

    /** The span of this worker's handling of one delivery of {@code request}, not yet current. */
    public ExecutionTrace start(Message<?> record, int partition, ExecutionRequest request) {
        Span span = tracer.spanBuilder("execfarm.execution")
                .setParent(received(record))
                .setSpanKind(SpanKind.CONSUMER)
                .setAttribute(RUNTIME, request.runtime())
                .setAttribute(TENANT, request.tenant())
                .setAttribute(WORKER, workerId)
                .setAttribute(REQUEST, request.id())
                .setAttribute(PARTITION, (long) partition)
                .startSpan();
        if (request.session() != null) {
            span.setAttribute(SESSION, request.session());
        }
        return new ExecutionTrace(tracer, span);
    }

    /**
     * A record sent to the dead-letter topic: a span of its own, marked as an error, in the sender's
     * trace. Returns its context, for the error result its sender gets.
     */
    public Context deadLettered(Message<?> record, String runtime, String reason) {
        Span span = tracer.spanBuilder("execfarm.dead.letter")
                .setParent(received(record))
                .setAttribute(RUNTIME, runtime)
                .setAttribute(WORKER, workerId)
                .setAttribute(REASON, reason)
                .startSpan();
        span.setStatus(StatusCode.ERROR, reason).end();
        return Context.root().with(span);
    }

    /** The trace id of {@code context}'s span, or null where nothing is traced. */
    public static String traceId(Context context) {
        SpanContext span = Span.fromContext(context).getSpanContext();
        return span.isValid() ? span.getTraceId() : null;
    }

    private static Context received(Message<?> record) {
        return TracingMetadata.fromMessage(record).map(TracingMetadata::getCurrentContext).orElse(Context.root());
    }
}
