package io.execfarm.worker.messaging;

import io.execfarm.contracts.RedisKeys;
import static io.execfarm.worker.messaging.PlainKafka.eventsUntilResult;
import static io.execfarm.worker.messaging.PlainKafka.request;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.execfarm.contracts.Topics;
import io.execfarm.localinfra.InjectTestInfra;
import io.execfarm.localinfra.TestInfra;
import io.execfarm.localinfra.TestInfraResource;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.redis.datasource.RedisDataSource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Requests without a session through the shared request topic and the workers' share group, on a
 * real broker and Redis with real Python processes. The test profile locks a record for 2 s, so a
 * request of several seconds lives through several renewals.
 */
@QuarkusTest
@QuarkusTestResource(TestInfraResource.AsWorker.class)
class SharedRequestsOnKafkaTest {

    private static final String SHARED = Topics.sharedRequests("python");
    private static final Duration WAIT = Duration.ofSeconds(60);

    @Inject
    RedisDataSource redis;

    @Inject
    MeterRegistry registry;

    @InjectTestInfra
    TestInfra infra;

    private PlainKafka kafka;
    private String replies;
    private KafkaConsumer<String, String> events;

    @BeforeEach
    void connect() {
        kafka = new PlainKafka(infra.kafkaAdmin());
        replies = Topics.tenantTopics("test") + "replies-" + UUID.randomUUID();
        events = kafka.consumer(replies);
    }

    @AfterEach
    void disconnect() {
        events.close();
        kafka.close();
    }

    @Test
    void aSharedRequestRunsOnceAndItsAttemptIsTheBrokersDeliveryCount() {
        String id = UUID.randomUUID().toString();
        kafka.send(SHARED, id, request(id, "print('shared')\n6 * 7", "\"replyTo\":\"" + replies + "\""));
        List<JsonNode> got = eventsUntilResult(events, id, WAIT);
        assertEquals("started", got.get(0).get("type").asText(), got.toString());
        JsonNode result = last(got);
        assertEquals("ok", result.get("status").asText(), result.toString());
        assertEquals("42", result.get("value").asText());
        assertEquals(1, result.get("attempt").asInt());
        assertNoMoreEventsOf(id, "answered once");
        assertEquals("1", redis.value(String.class).get(RedisKeys.ofRequest("attempts", id)),
                "the record was accepted (a delivery after its lock would count 2), and Redis kept the broker's count");
    }

    @Test
    void aRequestOutlivingManyLocksKeepsItsRecordAndRunsOnce() {
        String id = UUID.randomUUID().toString();
        kafka.send(SHARED, id, request(id, "import time\nprint('begun', flush=True)\ntime.sleep(7)\n'held'",
                "\"replyTo\":\"" + replies + "\",\"timeoutMs\":30000"));
        List<JsonNode> got = eventsUntilResult(events, id, WAIT);
        assertEquals(1, got.stream().filter(e -> "started".equals(e.get("type").asText())).count(),
                "started once: no other consumer got the record while it ran: " + got);
        JsonNode result = last(got);
        assertEquals("'held'", result.get("value").asText(), result.toString());
        assertEquals(1, result.get("attempt").asInt(), "one delivery, its lock renewed while it ran");
        assertNoMoreEventsOf(id, "answered once");
        assertEquals("1", redis.value(String.class).get(RedisKeys.ofRequest("attempts", id)), "accepted after its renewals");
    }

    @Test
    void garbageAndSessionRequestsAreRejectedToTheDeadLetterTopicAndTheConsumersCarryOn() {
        try (KafkaConsumer<String, String> deadLetters = kafka.consumer(Topics.DEAD_LETTERS)) {
            String notJson = "s-not-json-" + UUID.randomUUID();
            kafka.send(SHARED, notJson, "not json at all".getBytes(StandardCharsets.UTF_8));
            String wrongRuntime = UUID.randomUUID().toString();
            kafka.send(SHARED, wrongRuntime, ("{\"v\":1,\"id\":\"" + wrongRuntime + "\",\"runtime\":\"julia\","
                    + "\"code\":\"1\",\"replyTo\":\"" + replies + "\"}").getBytes(StandardCharsets.UTF_8));

            String withSession = UUID.randomUUID().toString();
            kafka.send(SHARED, withSession, request(withSession, "1", "\"session\":\"s-" + withSession
                    + "\",\"replyTo\":\"" + replies + "\""));

            Map<String, JsonNode> results = new HashMap<>();
            long resultsDeadline = System.nanoTime() + WAIT.toNanos();
            while (results.size() < 2 && System.nanoTime() < resultsDeadline) {
                for (ConsumerRecord<String, String> r : events.poll(Duration.ofMillis(200))) {
                    JsonNode event = PlainKafka.read(r.value());
                    if ("result".equals(event.get("type").asText())) {
                        results.put(r.key(), event);
                    }
                }
            }
            JsonNode rejected = results.get(wrongRuntime);
            assertNotNull(rejected, "the sender of the julia request was answered: " + results);
            assertEquals("rejected", rejected.get("status").asText(), rejected.toString());
            assertTrue(rejected.at("/error/message").asText().contains("execfarm.requests.julia"), rejected.toString());

            JsonNode sessionRejected = results.get(withSession);
            assertNotNull(sessionRejected, "the sender of the session request was answered: " + results);
            assertEquals("SessionOnSharedTopic", sessionRejected.at("/error/type").asText(), sessionRejected.toString());
            assertTrue(sessionRejected.at("/error/message").asText().contains("execfarm.requests.python,"),
                    "it names the ordered topic: " + sessionRejected);

            Map<String, ConsumerRecord<String, String>> dead = new HashMap<>();
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (dead.size() < 3 && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : deadLetters.poll(Duration.ofMillis(200))) {
                    if (notJson.equals(r.key()) || wrongRuntime.equals(r.key()) || withSession.equals(r.key())) {
                        dead.put(r.key(), r);
                    }
                }
            }
            assertEquals(3, dead.size(), "every record is in the dead-letter topic: " + dead.keySet());
            ConsumerRecord<String, String> garbage = dead.get(notJson);
            assertEquals("not json at all", garbage.value(), "the record as it was sent");
            assertFalse(header(garbage, "dead-letter-reason").isBlank());
            assertEquals(SHARED, header(garbage, "dead-letter-topic"));
            assertNotNull(garbage.headers().lastHeader("dead-letter-offset"));
        }
        String after = UUID.randomUUID().toString();
        kafka.send(SHARED, after, request(after, "'still consuming'", "\"replyTo\":\"" + replies + "\""));
        assertEquals("'still consuming'", last(eventsUntilResult(events, after, WAIT)).get("value").asText());
    }

    /**
     * A dead letter the broker refuses releases its record, which comes back to be dead-lettered
     * again: its sender is answered the first time only.
     */
    @Test
    void aRecordWhoseDeadLetterIsRefusedComesBackButIsAnsweredOnce() {
        String id = UUID.randomUUID().toString();
        Counter deadLetters = registry.counter("execfarm.dead.letters", "runtime", "python");
        double before = deadLetters.count();
        kafka.setTopicConfig(Topics.DEAD_LETTERS, "max.message.bytes", "16");
        try {
            kafka.send(SHARED, id, request(id, "1", "\"session\":\"s-" + id + "\",\"replyTo\":\"" + replies + "\""));
            await().atMost(WAIT).until(() -> deadLetters.count() >= before + 3);
        } finally {
            kafka.setTopicConfig(Topics.DEAD_LETTERS, "max.message.bytes", null);
        }
        List<JsonNode> results = PlainKafka.readToEnd(events, WAIT).stream().filter(r -> id.equals(r.key()))
                .map(r -> PlainKafka.read(r.value())).filter(e -> "result".equals(e.get("type").asText())).toList();
        assertEquals(1, results.size(), "handled three times, answered once: " + results);
        assertEquals("SessionOnSharedTopic", results.get(0).at("/error/type").asText(), results.toString());
    }

    /**
     * The broker restarted while a request runs: it forgets the record's lock, so the renewal fails,
     * and it delivers the record again. That delivery waits for the running one's claim in Redis and
     * finds the request answered: one start, one result, and the consumers carry on.
     */
    @Test
    void aBrokerRestartedMidRequestLosesNothingAndRunsNothingTwice() {
        Assumptions.assumeTrue(infra != null && infra.owned(), "needs a broker this test started itself");
        String id = UUID.randomUUID().toString();
        kafka.send(SHARED, id, request(id, "import time\nprint('before', flush=True)\ntime.sleep(4)\n'through'",
                "\"replyTo\":\"" + replies + "\""));
        List<JsonNode> seen = new ArrayList<>(PlainKafka.eventsUntil(events, id, "started", WAIT));
        infra.restart(TestInfra.Component.KAFKA, Duration.ofSeconds(1), false);
        seen.addAll(eventsUntilResult(events, id, Duration.ofSeconds(120)));
        assertEquals("'through'", last(seen).get("value").asText(), seen.toString());
        kafka.awaitShareConsumed(SharedRequestConsumer.group("python"), Duration.ofSeconds(120));
        PlainKafka.readToEnd(events, WAIT).stream().filter(r -> id.equals(r.key()))
                .forEach(r -> seen.add(PlainKafka.read(r.value())));
        // The test's own consumer may read an event twice across the restart (its offsets were not
        // committed yet); a second run or answer would be an event of its own.
        assertEquals(1, seen.stream().filter(e -> "started".equals(e.get("type").asText())).distinct().count(),
                "started once: " + seen);
        assertEquals(1, seen.stream().filter(e -> "result".equals(e.get("type").asText())).distinct().count(),
                "answered once: " + seen);

        String after = UUID.randomUUID().toString();
        kafka.send(SHARED, after, request(after, "'after the restart'", "\"replyTo\":\"" + replies + "\""));
        assertEquals("'after the restart'", last(eventsUntilResult(events, after, Duration.ofSeconds(120)))
                .get("value").asText());
    }

    /** Once the share group settled every record, so that none can be delivered and answered again. */
    private void assertNoMoreEventsOf(String id, String why) {
        kafka.awaitShareConsumed(SharedRequestConsumer.group("python"), WAIT);
        List<ConsumerRecord<String, String>> later = PlainKafka.readToEnd(events, WAIT);
        assertFalse(later.stream().anyMatch(r -> id.equals(r.key())), why + ": " + later);
    }

    private static String header(ConsumerRecord<String, String> record, String name) {
        Header header = record.headers().lastHeader(name);
        assertNotNull(header, name);
        return new String(header.value(), StandardCharsets.UTF_8);
    }

    private static JsonNode last(List<JsonNode> events) {
        return events.get(events.size() - 1);
    }
}
