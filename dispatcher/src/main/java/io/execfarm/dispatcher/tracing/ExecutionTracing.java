package io.execfarm.dispatcher.tracing;

import io.execfarm.dispatcher.events.ExecutionRecord;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.HashMap;
import java.util.Map;

/**
 * The dispatcher's spans of an execution beyond those Quarkus makes itself (the HTTP server span,
 * the Kafka connector's publish and receive spans): the delivery of its result to a waiting call
 * or an event stream, and a cancel. Each joins the execution's trace, whichever instance and
 * whichever HTTP call it happens in: the submit's trace context is kept with the execution in
 * Redis ({@link ExecutionRecord#traceparent()}); the HTTP call it happens in is linked.
 */
@ApplicationScoped
public class ExecutionTracing {

    static final AttributeKey<String> REQUEST = AttributeKey.stringKey("execfarm.request.id");
    static final AttributeKey<String> DELIVERY = AttributeKey.stringKey("execfarm.delivery");
    static final AttributeKey<String> STATUS = AttributeKey.stringKey("execfarm.status");
    static final AttributeKey<Long> EVENTS = AttributeKey.longKey("execfarm.events");

    private static final String TRACEPARENT = "traceparent";
    private static final TextMapGetter<Map<String, String>> FROM_MAP = new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(Map<String, String> carrier) {
            return carrier.keySet();
        }

        @Override
        public String get(Map<String, String> carrier, String key) {
            return carrier == null ? null : carrier.get(key);
        }
    };

    private final Tracer tracer;

    public ExecutionTracing(Tracer tracer) {
        this.tracer = tracer;
    }

    /** The W3C {@code traceparent} of {@code context}, or null when it holds no span (tracing off). */
    public String traceparent(Context context) {
        Map<String, String> carrier = new HashMap<>();
        W3CTraceContextPropagator.getInstance().inject(context, carrier, Map::put);
        return carrier.get(TRACEPARENT);
    }

    /** The context an execution was submitted in, or the root context when it was not traced. */
    public Context submittedIn(ExecutionRecord record) {
        if (record.traceparent() == null) {
            return Context.root();
        }
        return W3CTraceContextPropagator.getInstance().extract(Context.root(), Map.of(TRACEPARENT,
                record.traceparent()), FROM_MAP);
    }

    /**
     * Opens the span of a client's wait for an execution's events, in the execution's trace, from
     * the HTTP call {@code call}: {@code how} is {@code wait} (a {@code ?wait=true} submit) or
     * {@code sse} (an event stream). The {@link Delivery} ends it.
     */
    public Delivery delivering(Context execution, Context call, String requestId, String how) {
        Span span = linked(tracer.spanBuilder("execfarm.deliver").setParent(execution), execution, call)
                .setAttribute(REQUEST, requestId)
                .setAttribute(DELIVERY, how)
                .startSpan();
        return new Delivery(span);
    }

    /** Opens the span of a cancel of the execution, in its trace, from the HTTP call {@code call}; end it once sent. */
    public Span cancelling(ExecutionRecord record, Context call) {
        Context execution = submittedIn(record);
        return linked(tracer.spanBuilder("execfarm.cancel").setParent(execution), execution, call)
                .setAttribute(REQUEST, record.id())
                .startSpan();
    }

    /** Links the HTTP call this happens in, when it is traced in a trace other than the execution's. */
    private static SpanBuilder linked(SpanBuilder builder, Context execution, Context call) {
        SpanContext callSpan = Span.fromContext(call).getSpanContext();
        boolean elsewhere = !callSpan.getTraceId().equals(Span.fromContext(execution).getSpanContext().getTraceId());
        return callSpan.isValid() && elsewhere ? builder.addLink(callSpan) : builder;
    }

    /** One client's wait for an execution's events; ends at the result, a failure or the client leaving. */
    public static final class Delivery {

        private final Span span;
        private long events;
        private boolean ended;

        Delivery(Span span) {
            this.span = span;
        }

        /** An event handed to the client. */
        public synchronized void sent() {
            events++;
        }

        /** The client has the result. */
        public synchronized void delivered(String status) {
            if (!ended) {
                span.setAttribute(STATUS, status);
            }
            end();
        }

        /** The wait ended without the result: it failed, timed out, or the client went away. */
        public synchronized void ended(Throwable failure) {
            if (failure != null) {
                span.recordException(failure);
            }
            end();
        }

        private void end() {
            if (!ended) {
                ended = true;
                span.setAttribute(EVENTS, events);
                span.end();
            }
        }
    }
}
