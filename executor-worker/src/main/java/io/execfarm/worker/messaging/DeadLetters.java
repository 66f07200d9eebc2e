package io.execfarm.worker.messaging;

import io.execfarm.contracts.Protocol;
import io.smallrye.mutiny.Uni;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Message;

/**
 * Writes a share group's records that cannot be answered to the dead-letter topic, as the Kafka
 * connector's dead-letter strategy writes a consumer group's: the record's key, value and headers,
 * plus the reason and where the record came from. (The connector offers no dead-letter strategy
 * for share groups.)
 */
@ApplicationScoped
public class DeadLetters {

    static final String TOPIC_HEADER = "dead-letter-topic";
    static final String PARTITION_HEADER = "dead-letter-partition";
    static final String OFFSET_HEADER = "dead-letter-offset";

    private final MutinyEmitter<byte[]> deadLetters;

    public DeadLetters(@Channel("dead-letters") MutinyEmitter<byte[]> deadLetters) {
        this.deadLetters = deadLetters;
    }

    /** Completes once the broker has acknowledged the dead letter. */
    public Uni<Void> send(ConsumerRecord<String, byte[]> record, String reason) {
        RecordHeaders headers = new RecordHeaders(record.headers().toArray());
        headers.add(Protocol.DLQ_REASON_HEADER, bytes(reason));
        headers.add(TOPIC_HEADER, bytes(record.topic()));
        headers.add(PARTITION_HEADER, bytes(Integer.toString(record.partition())));
        headers.add(OFFSET_HEADER, bytes(Long.toString(record.offset())));
        OutgoingKafkaRecordMetadata<String> metadata = OutgoingKafkaRecordMetadata.<String>builder()
                .withKey(record.key())
                .withHeaders(headers)
                .build();
        byte[] value = record.value() != null ? record.value() : new byte[0];
        return deadLetters.sendMessage(Message.of(value).addMetadata(metadata));
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
