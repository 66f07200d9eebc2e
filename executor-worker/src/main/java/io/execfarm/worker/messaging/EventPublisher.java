package io.execfarm.worker.messaging;

import io.execfarm.contracts.ExecutionEvent;
import io.execfarm.contracts.WireCodec;
import io.opentelemetry.context.Context;
import io.smallrye.mutiny.Uni;
import io.smallrye.reactive.messaging.TracingMetadata;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.OptionalInt;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Message;
import org.eclipse.microprofile.reactive.messaging.OnOverflow;

/**
 * Publishes a request's events to its reply topic, keyed by request id. Events of one request are
 * handed to the producer one at a time, in order (the idempotent producer keeps that order on the
 * wire); output is bounded by each request's budget, so the emitter's buffer may be unbounded.
 */
@ApplicationScoped
public class EventPublisher {

    /** A record's framing around its key and value, generously: batch header and record fields. */
    private static final int RECORD_OVERHEAD_BYTES = 128;

    private final MutinyEmitter<byte[]> replies;
    private final WireCodec codec;
    private final ReplyTopicLimits limits;

    public EventPublisher(@Channel("replies") @OnOverflow(OnOverflow.Strategy.UNBOUNDED_BUFFER)
            MutinyEmitter<byte[]> replies, WireCodec codec, ReplyTopicLimits limits) {
        this.replies = replies;
        this.codec = codec;
        this.limits = limits;
    }

    /**
     * Looks up what publishing to {@code topic} needs to know (its record limit). Blocking: call it
     * on the request's thread before its events, which then never wait for the broker's metadata.
     */
    public void prepare(String topic) {
        limits.lookUp(topic);
    }

    /**
     * Completes once the broker has acknowledged the event; fails at once with
     * {@link RecordTooLargeException} when the event is larger than the topic accepts. The record
     * carries {@code traced}'s trace in its headers (the connector's producer span is its child).
     */
    public Uni<Void> publish(String topic, ExecutionEvent event, Context traced) {
        byte[] payload = codec.encode(event);
        OptionalInt limit = limits.known(topic);
        int size = payload.length + event.requestId().length() + RECORD_OVERHEAD_BYTES;
        if (limit.isPresent() && size > limit.getAsInt()) {
            return Uni.createFrom().failure(new RecordTooLargeException("the " + event.type() + " event of "
                    + event.requestId() + " takes about " + size + " bytes; " + topic + " accepts records of at most "
                    + limit.getAsInt() + " (max.message.bytes)"));
        }
        OutgoingKafkaRecordMetadata<String> metadata = OutgoingKafkaRecordMetadata.<String>builder()
                .withTopic(topic)
                .withKey(event.requestId())
                .build();
        return replies.sendMessage(Message.of(payload).addMetadata(metadata)
                .addMetadata(TracingMetadata.withCurrent(traced)));
    }
}
