package io.execfarm.bench;

import io.execfarm.accounts.KafkaLogin;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/** The benchmark's Kafka clients, set up as a latency-minded client in any language would set up its own. */
final class PlainClients {

    private PlainClients() {
    }

    /**
     * Acknowledged by every replica, sent at once (no linger); records up to the broker's limit, as
     * a client sending files inline must allow (the producer's own default is 1 MiB).
     */
    static KafkaProducer<String, String> producer(KafkaLogin login) {
        Properties p = new Properties();
        p.putAll(login.clientSettings());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 8 * 1024 * 1024);
        return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
    }

    /** Reads {@code topic} from its beginning, in a group of its own, without waiting to fill fetches. */
    static KafkaConsumer<String, String> consumer(KafkaLogin login, String groupPrefix, String topic) {
        Properties c = new Properties();
        c.putAll(login.clientSettings());
        c.put(ConsumerConfig.GROUP_ID_CONFIG, groupPrefix + "-" + UUID.randomUUID());
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 1);
        KafkaConsumer<String, String> consumer = new KafkaConsumer<>(c, new StringDeserializer(), new StringDeserializer());
        consumer.subscribe(List.of(topic));
        return consumer;
    }
}
