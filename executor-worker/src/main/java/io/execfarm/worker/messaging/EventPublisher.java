package io.execfarm.worker.messaging;

import io.execfarm.contracts.ExecutionEvent;
import io.execfarm.contracts.WireCodec;
import io.smallrye.mutiny.Uni;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import jakarta.enterprise.context.ApplicationScoped;
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

    private final MutinyEmitter<byte[]> replies;
    private final WireCodec codec;

    public EventPublisher(@Channel("replies") @OnOverflow(OnOverflow.Strategy.UNBOUNDED_BUFFER)
            MutinyEmitter<byte[]> replies, WireCodec codec) {
        this.replies = replies;
        this.codec = codec;
    }

    /** Completes once the broker has acknowledged the event. */
    public Uni<Void> publish(String topic, ExecutionEvent event) {
        OutgoingKafkaRecordMetadata<String> metadata = OutgoingKafkaRecordMetadata.<String>builder()
                .withTopic(topic)
                .withKey(event.requestId())
                .build();
        return replies.sendMessage(Message.of(codec.encode(event)).addMetadata(metadata));
    }
}
