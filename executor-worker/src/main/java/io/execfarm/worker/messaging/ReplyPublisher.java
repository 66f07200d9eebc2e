package io.execfarm.worker.messaging;

import io.execfarm.contracts.ExecutionEvent;
import io.execfarm.contracts.WireCodec;
import io.smallrye.mutiny.Uni;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import io.smallrye.reactive.messaging.MutinyEmitter;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Message;

/** Publishes a request's events to its reply topic, keyed by request id so they stay in order. */
@ApplicationScoped
public class ReplyPublisher {

    private final MutinyEmitter<byte[]> replies;
    private final WireCodec codec;

    public ReplyPublisher(@Channel("replies") MutinyEmitter<byte[]> replies, WireCodec codec) {
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
