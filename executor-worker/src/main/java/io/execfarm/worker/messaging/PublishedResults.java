package io.execfarm.worker.messaging;

import io.execfarm.contracts.MalformedMessageException;
import io.execfarm.contracts.Result;
import io.execfarm.contracts.WireCodec;
import io.quarkus.runtime.ShutdownEvent;
import io.smallrye.common.annotation.Identifier;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.utils.Utils;

/**
 * Whether a request's result is on its reply topic already. Asked only when a request delivered
 * again has a stored result never marked published: its worker died after storing it, either
 * before the broker took the result or after (between the broker's acknowledgement and the mark,
 * a window a broker restart stretches to seconds). Reading the one partition the result's key maps
 * to, from a little before the request was sent, tells the two apart, so the result is published
 * once either way.
 */
@ApplicationScoped
public class PublishedResults {

    /** Producers' clocks may run apart: the scan starts this long before the request's timestamp. */
    private static final Duration CLOCK_MARGIN = Duration.ofMinutes(1);
    private static final Duration SCAN_LIMIT = Duration.ofSeconds(30);

    private final Map<String, Object> kafka;
    private final WireCodec codec;
    private KafkaConsumer<String, byte[]> consumer;

    /** @param kafka the application's {@code kafka.*} settings, as the connector reads them */
    public PublishedResults(@Identifier("default-kafka-broker") Map<String, Object> kafka, WireCodec codec) {
        this.kafka = kafka;
        this.codec = codec;
    }

    synchronized void stop(@Observes ShutdownEvent event) {
        if (consumer != null) {
            consumer.close();
        }
    }

    /**
     * Whether {@code topic} holds a result of {@code requestId} published since about {@code sent}.
     *
     * @throws RuntimeException when the topic cannot be read within half a minute
     */
    public synchronized boolean contains(String topic, String requestId, Instant sent) {
        KafkaConsumer<String, byte[]> reader = consumer();
        int partitions = reader.partitionsFor(topic, SCAN_LIMIT).size();
        // The producer's default partitioner for a keyed record.
        TopicPartition partition = new TopicPartition(topic,
                Utils.toPositive(Utils.murmur2(requestId.getBytes(StandardCharsets.UTF_8))) % partitions);
        reader.assign(List.of(partition));
        OffsetAndTimestamp from = reader.offsetsForTimes(Map.of(partition, sent.minus(CLOCK_MARGIN).toEpochMilli()),
                SCAN_LIMIT).get(partition);
        if (from == null) {
            return false;
        }
        long end = reader.endOffsets(List.of(partition), SCAN_LIMIT).get(partition);
        reader.seek(partition, from.offset());
        long deadline = System.nanoTime() + SCAN_LIMIT.toNanos();
        while (reader.position(partition) < end) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("reading " + partition + " for the result of " + requestId
                        + " took over " + SCAN_LIMIT.toSeconds() + " s");
            }
            for (ConsumerRecord<String, byte[]> record : reader.poll(Duration.ofMillis(200))) {
                if (requestId.equals(record.key()) && isResult(record.value())) {
                    return true;
                }
            }
        }
        return false;
    }

    private boolean isResult(byte[] event) {
        try {
            return codec.decodeEvent(event) instanceof Result;
        } catch (MalformedMessageException e) {
            return false;
        }
    }

    private KafkaConsumer<String, byte[]> consumer() {
        if (consumer == null) {
            Map<String, Object> settings = new HashMap<>(kafka);
            settings.keySet().retainAll(ConsumerConfig.configNames());
            settings.remove(ConsumerConfig.GROUP_ID_CONFIG);
            settings.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
            consumer = new KafkaConsumer<>(settings, new StringDeserializer(), new ByteArrayDeserializer());
        }
        return consumer;
    }
}
