package io.execfarm.worker.messaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.execfarm.localinfra.LocalInfraTestResource;
import io.quarkus.redis.datasource.RedisDataSource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

/**
 * A real broker, a real Redis, and plain Kafka clients written as a user in another language would
 * write them: JSON by hand in, JSON read by field names out.
 */
@QuarkusTest
@QuarkusTestResource(LocalInfraTestResource.class)
class PlumbingEndToEndTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;

    @Inject
    RedisDataSource redis;

    @Test
    void requestFromAPlainProducerGetsAResultOnTheReplyTopicAndInRedis() throws Exception {
        String id = UUID.randomUUID().toString();
        String replyTopic = "plumbing.replies." + id;
        String request = "{\"v\":1,\"id\":\"" + id + "\",\"runtime\":\"python\",\"code\":\"print(1)\",\"replyTo\":\""
                + replyTopic + "\"}";

        try (KafkaConsumer<String, String> consumer = consumer()) {
            consumer.subscribe(List.of(replyTopic));
            try (KafkaProducer<String, String> producer = producer()) {
                producer.send(new ProducerRecord<>("execfarm.requests.python", id, request)).get();
            }
            ConsumerRecord<String, String> reply = awaitRecord(consumer, Duration.ofSeconds(60));

            assertEquals(id, reply.key(), "events are keyed by request id");
            JsonNode event = JSON.readTree(reply.value());
            assertEquals(1, event.get("v").asInt());
            assertEquals("result", event.get("type").asText());
            assertEquals(id, event.get("requestId").asText());
            assertNotNull(event.get("status").asText());
            assertNotNull(event.get("workerId").asText());

            String stored = redis.value(String.class).get("execfarm:result:" + id);
            assertNotNull(stored, "the result is kept in Redis by request id");
            assertEquals(event, JSON.readTree(stored));
            long ttl = redis.key().ttl("execfarm:result:" + id);
            assertEquals(true, ttl > 0 && ttl <= 3600, "result key has a TTL, was " + ttl);
        }
    }

    @Test
    void malformedRecordWithReadableIdIsAnsweredAndTheConsumerLivesOn() throws Exception {
        String badId = UUID.randomUUID().toString();
        String goodId = UUID.randomUUID().toString();
        try (KafkaConsumer<String, String> consumer = consumer()) {
            consumer.subscribe(List.of("execfarm.replies"));
            try (KafkaProducer<String, String> producer = producer()) {
                producer.send(new ProducerRecord<>("execfarm.requests.python", "x", "not json at all")).get();
                producer.send(new ProducerRecord<>("execfarm.requests.python", badId,
                        "{\"v\":1,\"id\":\"" + badId + "\",\"runtime\":\"python\",\"timeoutMs\":\"soon\",\"code\":\"1\"}")).get();
                producer.send(new ProducerRecord<>("execfarm.requests.python", goodId,
                        "{\"v\":1,\"id\":\"" + goodId + "\",\"runtime\":\"python\",\"code\":\"1\"}")).get();
            }
            JsonNode bad = awaitEventFor(consumer, badId);
            assertEquals("rejected", bad.get("status").asText());
            assertEquals("MalformedRequest", bad.at("/error/type").asText());
            assertEquals(true, bad.at("/error/message").asText().contains("timeoutMs"), bad.toString());
            assertEquals(goodId, awaitEventFor(consumer, goodId).get("requestId").asText());
        }
    }

    private JsonNode awaitEventFor(KafkaConsumer<String, String> consumer, String id) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                if (id.equals(r.key())) {
                    return JSON.readTree(r.value());
                }
            }
        }
        return fail("no event for " + id + " within 60 s");
    }

    private static ConsumerRecord<String, String> awaitRecord(KafkaConsumer<String, String> consumer, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                return r;
            }
        }
        return fail("no record within " + timeout);
    }

    private KafkaProducer<String, String> producer() {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
    }

    private KafkaConsumer<String, String> consumer() {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "plumbing-test-" + UUID.randomUUID());
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        return new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer());
    }
}
