package io.execfarm.worker.tracing;

import io.execfarm.contracts.ExecutionRequest;
import io.execfarm.worker.config.WorkerId;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.charset.StandardCharsets;
import java.util.stream.StreamSupport;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;

/**
 * Opens the worker's spans of a request, under the context its record carried in: the Kafka
 * connector's receive span (which continued the sender's trace from the record's
 * {@code traceparent} header) for a consumer group's record, the sender's own span for a share
 * group's ({@code SharedRequestConsumer} reads the header itself). With the OpenTelemetry SDK disabled (the default) every span is a no-op.
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

    private static final TextMapGetter<Headers> HEADERS = new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(Headers headers) {
            return () -> StreamSupport.stream(headers.spliterator(), false).map(Header::key).iterator();
        }

        @Override
        public String get(Headers headers, String key) {
            Header header = headers == null ? null : headers.lastHeader(key);
            return header == null || header.value() == null ? null : new String(header.value(), StandardCharsets.UTF_8);
        }
    };

    private final Tracer tracer;
    private final TextMapPropagator propagator;
    private final String workerId;

    public RequestTracing(Tracer tracer, OpenTelemetry openTelemetry, WorkerId workerId) {
        this.tracer = tracer;
        this.propagator = openTelemetry.getPropagators().getTextMapPropagator();
        this.workerId = workerId.value();
    }

    /** The trace a record's headers carry from its sender ({@code traceparent}), the root context where none. */
    public Context sender(Headers headers) {
        return propagator.extract(Context.root(), headers, HEADERS);
    }

    /** The span of this worker's handling of one delivery of {@code request}, not yet current. */
    public ExecutionTrace start(Context sender, int partition, ExecutionRequest request) {
        Span span = tracer.spanBuilder("execfarm.execution")
                .setParent(sender)
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
    public Context deadLettered(Context sender, String runtime, String reason) {
        Span span = tracer.spanBuilder("execfarm.dead.letter")
                .setParent(sender)
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
}
