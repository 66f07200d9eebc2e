package io.execfarm.worker.messaging;

import io.execfarm.contracts.Protocol;
import io.execfarm.contracts.Topics;
import io.smallrye.mutiny.Uni;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.kafka.KafkaRecord;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Message;
import org.eclipse.microprofile.reactive.messaging.OnOverflow;

/**
 * Writes records that cannot be answered to the dead-letter topic, for both delivery modes: the
 * record's key, value and headers, plus the reason and where the record came from, as the Kafka
 * connector's dead-letter strategy would (which has none for share groups, and would open a
 * producer of its own per channel). They leave through the {@code replies} channel's producer,
 * addressed to the dead-letter topic: one producer per worker for everything it writes.
 */
@ApplicationScoped
public class DeadLetters {

    static final String TOPIC_HEADER = "dead-letter-topic";
    static final String PARTITION_HEADER = "dead-letter-partition";
    static final String OFFSET_HEADER = "dead-letter-offset";

    /** How long either delivery mode waits for the broker to take a dead letter before it gives the record back. */
    static final Duration WRITE_TIMEOUT = Duration.ofMinutes(1);

    private final MutinyEmitter<byte[]> producer;

    public DeadLetters(@Channel("replies") @OnOverflow(OnOverflow.Strategy.UNBOUNDED_BUFFER)
            MutinyEmitter<byte[]> producer) {
        this.producer = producer;
    }

    /** Completes once the broker has acknowledged the dead letter. */
    public Uni<Void> send(ConsumerRecord<String, byte[]> record, String reason) {
        return send(record.topic(), record.partition(), record.offset(), record.key(), record.value(), record.headers(),
                reason);
    }

    /** Completes once the broker has acknowledged the dead letter. */
    public Uni<Void> send(KafkaRecord<String, byte[]> record, long offset, String reason) {
        return send(record.getTopic(), record.getPartition(), offset, record.getKey(), record.getPayload(),
                record.getHeaders(), reason);
    }

    private Uni<Void> send(String topic, int partition, long offset, String key, byte[] value, Headers original,
            String reason) {
        RecordHeaders headers = new RecordHeaders(original.toArray());
        headers.add(Protocol.DLQ_REASON_HEADER, bytes(reason));
        headers.add(TOPIC_HEADER, bytes(topic));
        headers.add(PARTITION_HEADER, bytes(Integer.toString(partition)));
        headers.add(OFFSET_HEADER, bytes(Long.toString(offset)));
        OutgoingKafkaRecordMetadata<String> metadata = OutgoingKafkaRecordMetadata.<String>builder()
                .withTopic(Topics.DEAD_LETTERS)
                .withKey(key)
                .withHeaders(headers)
                .build();
        return producer.sendMessage(Message.of(value != null ? value : new byte[0]).addMetadata(metadata));
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
