package io.execfarm.worker.messaging;

import io.execfarm.client.ReplyTopicScan;
import io.execfarm.contracts.WireCodec;
import io.quarkus.runtime.ShutdownEvent;
import io.smallrye.common.annotation.Identifier;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

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

    private static final Duration SCAN_LIMIT = Duration.ofSeconds(30);

    private final Map<String, Object> kafka;
    private final WireCodec codec;
    private KafkaConsumer<String, byte[]> consumer;
    private ReplyTopicScan scan;

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
        if (consumer == null) {
            Map<String, Object> settings = new HashMap<>(kafka);
            settings.keySet().retainAll(ConsumerConfig.configNames());
            settings.remove(ConsumerConfig.GROUP_ID_CONFIG);
            settings.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
            consumer = new KafkaConsumer<>(settings, new StringDeserializer(), new ByteArrayDeserializer());
            scan = new ReplyTopicScan(consumer, codec, SCAN_LIMIT);
        }
        return scan.find(topic, requestId, sent).isPresent();
    }
}
