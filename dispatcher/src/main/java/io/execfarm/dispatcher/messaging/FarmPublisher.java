package io.execfarm.dispatcher.messaging;

import io.execfarm.contracts.Cancel;
import io.execfarm.contracts.ExecutionRequest;
import io.execfarm.contracts.Result;
import io.execfarm.contracts.Topics;
import io.execfarm.contracts.WireCodec;
import io.execfarm.dispatcher.config.DispatcherConfig;
import io.opentelemetry.context.Context;
import io.smallrye.mutiny.Uni;
import io.smallrye.reactive.messaging.TracingMetadata;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.concurrent.TimeoutException;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Message;

/**
 * Publishes requests to their runtime's topics (a session's to the partition-ordered topic, others
 * as {@code sessionless-delivery} says) and cancels to the control topic.
 */
@ApplicationScoped
public class FarmPublisher {

    private final MutinyEmitter<byte[]> requests;
    private final MutinyEmitter<byte[]> control;
    private final WireCodec codec;
    private final boolean sessionlessShared;

    public FarmPublisher(@Channel("requests") MutinyEmitter<byte[]> requests,
            @Channel("control") MutinyEmitter<byte[]> control, WireCodec codec, DispatcherConfig config) {
        this.requests = requests;
        this.control = control;
        this.codec = codec;
        this.sessionlessShared = config.sessionlessDelivery() == DispatcherConfig.SessionlessDelivery.SHARED;
    }

    /**
     * Keyed by session when there is one, so one session's requests stay in order; completes on the
     * broker's ack. The record carries {@code traced}'s trace in its {@code traceparent} header.
     */
    public Uni<Void> submit(ExecutionRequest request, Context traced) {
        OutgoingKafkaRecordMetadata<String> metadata = OutgoingKafkaRecordMetadata.<String>builder()
                .withTopic(request.session() == null && sessionlessShared ? Topics.sharedRequests(request.runtime())
                        : Topics.requests(request.runtime()))
                .withKey(request.kafkaKey())
                .build();
        return requests.sendMessage(Message.of(codec.encode(request)).addMetadata(metadata)
                .addMetadata(TracingMetadata.withCurrent(traced)));
    }

    /**
     * Whether a failed publish may still have been written: the producer gave up waiting for the
     * broker's answer (a time-out), rather than being refused.
     */
    public static boolean mayHaveReachedKafka(Throwable failure) {
        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
            if (cause instanceof org.apache.kafka.common.errors.TimeoutException
                    || cause instanceof TimeoutException || cause instanceof io.smallrye.mutiny.TimeoutException) {
                return true;
            }
            if (cause.getCause() == cause) {
                break;
            }
        }
        return false;
    }

    /**
     * A result the dispatcher itself gives, on a tenant's reply topic: the answer to a request it
     * refused to forward. Through the requests' producer, to the topic named.
     */
    public Uni<Void> answer(String topic, Result result) {
        OutgoingKafkaRecordMetadata<String> metadata = OutgoingKafkaRecordMetadata.<String>builder()
                .withTopic(topic)
                .withKey(result.requestId())
                .build();
        return requests.sendMessage(Message.of(codec.encode(result)).addMetadata(metadata));
    }

    public Uni<Void> cancel(String requestId, Context traced) {
        OutgoingKafkaRecordMetadata<String> metadata = OutgoingKafkaRecordMetadata.<String>builder()
                .withKey(requestId)
                .build();
        return control.sendMessage(Message.of(codec.encode(new Cancel(requestId))).addMetadata(metadata)
                .addMetadata(TracingMetadata.withCurrent(traced)));
    }
}
