package io.execfarm.worker.messaging;

import io.execfarm.contracts.RedisKeys;
import static io.execfarm.worker.messaging.PlainKafka.eventsUntilResult;
import static io.execfarm.worker.messaging.PlainKafka.request;
import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.execfarm.contracts.Topics;
import io.execfarm.localinfra.InjectTestInfra;
import io.execfarm.localinfra.TestInfra;
import io.execfarm.localinfra.TestInfraResource;
import io.execfarm.worker.pool.Pools;
import io.micrometer.core.instrument.Measurement;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Statistic;
import io.quarkus.redis.datasource.RedisDataSource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.StreamSupport;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * One worker on a real broker and a real Redis, running real Python processes, driven by plain
 * Kafka clients exactly as a user in another language would.
 */
@QuarkusTest
@QuarkusTestResource(TestInfraResource.AsWorker.class)
class WorkerOnKafkaTest {

    private static final String REQUESTS = "execfarm.requests.python";
    /** The workers' consumer group on {@link #REQUESTS}. */
    private static final String WORKERS = "execfarm-workers-python";
    private static final Duration WAIT = Duration.ofSeconds(60);

    @Inject
    Pools pools;

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

    /** A run that ends before its first output tick, with no output, is answered by one record. */
    @Test
    void aShortRunWithoutOutputIsAnsweredByItsResultAlone() {
        String id = UUID.randomUUID().toString();
        kafka.send(REQUESTS, id, request(id, "6 * 7", "\"replyTo\":\"" + replies + "\""));
        List<JsonNode> got = eventsUntilResult(events, id, WAIT);
        assertEquals(1, got.size(), "no started event before the result: " + got);
        JsonNode result = got.get(0);
        assertEquals("42", result.get("value").asText(), result.toString());
        assertFalse(result.get("workerId").asText().isEmpty(), "the result names its worker: " + result);
        assertTrue(result.at("/timings/queuedMs").isNumber(), "and its time queued: " + result);
    }

    @Test
    void eventsArriveInOrderWithGapFreeOutputAndTheResultLast() {
        String id = UUID.randomUUID().toString();
        kafka.send(REQUESTS, id, request(id, "import sys\nprint('hello')\nprint('oops', file=sys.stderr)\n6 * 7",
                "\"replyTo\":\"" + replies + "\",\"tenant\":\"acme\""));

        List<JsonNode> got = eventsUntilResult(events, id, WAIT);
        assertEquals("started", got.get(0).get("type").asText(), got.toString());
        JsonNode result = got.get(got.size() - 1);
        assertEquals("ok", result.get("status").asText(), result.toString());
        assertEquals("42", result.get("value").asText());
        assertEquals(1, result.get("attempt").asInt());
        assertEquals(got.get(0).get("workerId"), result.get("workerId"));
        assertTrue(result.at("/timings/totalMs").asLong() >= result.at("/timings/execMs").asLong());

        StringBuilder stdout = new StringBuilder();
        StringBuilder stderr = new StringBuilder();
        long seq = 0;
        for (JsonNode event : got.subList(1, got.size() - 1)) {
            assertEquals("output", event.get("type").asText());
            assertEquals(seq++, event.get("seq").asLong(), "seq numbers have no gaps");
            ("stdout".equals(event.get("stream").asText()) ? stdout : stderr).append(event.get("text").asText());
        }
        assertEquals("hello\n", stdout.toString());
        assertEquals("oops\n", stderr.toString());

        String stored = redis.value(String.class).get(RedisKeys.ofRequest("result", id));
        assertEquals(result, PlainKafka.read(stored), "the result is kept in Redis");
        long ttl = redis.key().ttl(RedisKeys.ofRequest("result", id));
        assertTrue(ttl > 0 && ttl <= 3600, "the stored result expires; ttl " + ttl);
    }

    /**
     * A raw Kafka client's request with a file (as text) and a glob gets the code's picture as a
     * display event numbered among its output, and the file the code wrote in its result.
     */
    @Test
    void aFileGoesInAndTheCollectedFileAndAPictureComeBack() {
        String id = UUID.randomUUID().toString();
        String code = "class Picture:\n    def _repr_png_(self):\n        return b'\\x89PNG-picture'\n"
                + "print('read', open('data/in.txt').read())\ndisplay(Picture())\nprint('writing')\n"
                + "open('result.txt', 'w').write('done')";
        kafka.send(REQUESTS, id, request(id, code, "\"replyTo\":\""
                + replies + "\",\"files\":[{\"path\":\"data/in.txt\",\"text\":\"hello\"}],\"collect\":[\"*.txt\"]"));
        List<JsonNode> got = eventsUntilResult(events, id, WAIT);
        List<JsonNode> numbered = got.stream().filter(event -> event.has("seq")).toList();
        for (int i = 0; i < numbered.size(); i++) {
            assertEquals(i, numbered.get(i).get("seq").asInt(), "output and displays share one gap-free numbering: " + got);
        }
        List<String> kinds = numbered.stream().map(event -> event.get("type").asText()).toList();
        assertEquals(List.of("output", "display", "output"), kinds, got::toString);
        assertEquals("\u0089PNG-picture", new String(Base64.getDecoder().decode(numbered.get(1).at("/data/image~1png").asText()),
                StandardCharsets.ISO_8859_1));
        JsonNode result = got.get(got.size() - 1);
        assertEquals("ok", result.get("status").asText(), result.toString());
        JsonNode file = result.at("/files/0");
        assertEquals("result.txt", file.get("path").asText(), result.toString());
        assertEquals("done", new String(Base64.getDecoder().decode(file.get("base64").asText()), StandardCharsets.UTF_8));
        assertEquals(4, file.get("size").asInt());
        assertEquals("text/plain", file.get("mediaType").asText());
    }

    @Test
    void outputIsBatchedIntoFewRecordsWithoutLosingOrder() {
        String id = UUID.randomUUID().toString();
        kafka.send(REQUESTS, id, request(id, "for i in range(3000):\n    print(i)", "\"replyTo\":\"" + replies + "\""));
        List<JsonNode> got = eventsUntilResult(events, id, WAIT);
        List<JsonNode> outputs = got.stream().filter(e -> "output".equals(e.get("type").asText())).toList();
        StringBuilder text = new StringBuilder();
        outputs.forEach(e -> text.append(e.get("text").asText()));
        StringBuilder expected = new StringBuilder();
        for (int i = 0; i < 3000; i++) {
            expected.append(i).append('\n');
        }
        assertEquals(expected.toString(), text.toString());
        assertTrue(outputs.size() <= 30, "3000 lines became " + outputs.size() + " records");
    }

    @Test
    void garbageGoesToTheDeadLetterTopicAndTheConsumerCarriesOn() {
        try (KafkaConsumer<String, String> deadLetters = kafka.consumer("execfarm.requests.dlq")) {
            Map<String, byte[]> garbage = new HashMap<>();
            garbage.put("g-not-json-" + UUID.randomUUID(), "this is not json".getBytes(StandardCharsets.UTF_8));
            garbage.put("g-empty-" + UUID.randomUUID(), new byte[0]);
            garbage.put("g-bytes-" + UUID.randomUUID(), new byte[] {(byte) 0xff, (byte) 0xfe, 0, 1});
            garbage.put("g-truncated-" + UUID.randomUUID(), "{\"v\":1,\"id\":\"x\",\"code\":\"".getBytes(StandardCharsets.UTF_8));
            String readableId = UUID.randomUUID().toString();
            garbage.put(readableId, ("{\"v\":2,\"id\":\"" + readableId + "\",\"runtime\":\"python\",\"code\":\"1\",\"replyTo\":\""
                    + replies + "\"}").getBytes(StandardCharsets.UTF_8));
            String wrongRuntimeId = UUID.randomUUID().toString();
            garbage.put(wrongRuntimeId, ("{\"v\":1,\"id\":\"" + wrongRuntimeId + "\",\"runtime\":\"julia\",\"code\":\"1\",\"replyTo\":\""
                    + replies + "\"}").getBytes(StandardCharsets.UTF_8));
            String oversizedId = UUID.randomUUID().toString();
            garbage.put(oversizedId, request(oversizedId, "x".repeat((1 << 20) + 1), "\"replyTo\":\"" + replies + "\"")
                    .getBytes(StandardCharsets.UTF_8));

            List<String> valid = new ArrayList<>();
            for (Map.Entry<String, byte[]> entry : garbage.entrySet()) {
                String id = UUID.randomUUID().toString();
                valid.add(id);
                kafka.send(REQUESTS, id, request(id, "'ok-" + id + "'", "\"replyTo\":\"" + replies + "\""));
                kafka.send(REQUESTS, entry.getKey(), entry.getValue());
            }

            Set<String> finished = new HashSet<>();
            Map<String, JsonNode> rejected = new HashMap<>();
            long deadline = System.nanoTime() + WAIT.toNanos();
            while ((finished.size() < valid.size() || rejected.size() < 3) && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : events.poll(Duration.ofMillis(200))) {
                    JsonNode event = PlainKafka.read(r.value());
                    if (!"result".equals(event.get("type").asText())) {
                        continue;
                    }
                    if ("ok".equals(event.get("status").asText())) {
                        finished.add(r.key());
                    } else {
                        rejected.put(r.key(), event);
                    }
                }
            }
            assertEquals(new HashSet<>(valid), finished, "every valid request completed");
            assertEquals(Set.of(readableId, wrongRuntimeId, oversizedId), rejected.keySet(),
                    "a rejected result reaches every sender whose id and reply topic could be read");
            assertTrue(rejected.get(readableId).at("/error/message").asText().contains("protocol version 2"));
            assertTrue(rejected.get(wrongRuntimeId).at("/error/message").asText().contains("execfarm.requests.julia"));
            assertTrue(rejected.get(oversizedId).at("/error/message").asText().contains("over the limit"));

            Map<String, String> reasons = PlainKafka.deadLetterReasons(deadLetters, garbage.keySet(), WAIT);
            assertEquals(garbage.keySet(), reasons.keySet(), "every garbage record is in the dead-letter topic");
            assertTrue(reasons.values().stream().noneMatch(String::isBlank));
        }
        String after = UUID.randomUUID().toString();
        kafka.send(REQUESTS, after, request(after, "'still consuming'", "\"replyTo\":\"" + replies + "\""));
        assertEquals("'still consuming'", last(eventsUntilResult(events, after, WAIT)).get("value").asText());
    }

    @Test
    void aResultItsReplyTopicRefusesIsAnsweredWithAnErrorDeadLetteredAndThePartitionMovesOn() {
        String small = Topics.tenantTopics("test") + "small-" + UUID.randomUUID();
        kafka.createTopic(small, Map.of("max.message.bytes", "1500"));
        String id = UUID.randomUUID().toString();
        String after = UUID.randomUUID().toString();
        try (KafkaConsumer<String, String> smallReplies = kafka.consumer(small);
                KafkaConsumer<String, String> deadLetters = kafka.consumer("execfarm.requests.dlq")) {
            // One key, so one partition: the request behind it waits for this one to be settled.
            kafka.send(REQUESTS, "same-key", request(id, "'x' * 5000", "\"replyTo\":\"" + small + "\""));
            kafka.send(REQUESTS, "same-key", request(after, "'next'", "\"replyTo\":\"" + replies + "\""));

            JsonNode result = PlainKafka.resultOf(smallReplies, id, WAIT);
            assertEquals("crashed", result.get("status").asText(), result.toString());
            assertEquals("ResultUndeliverable", result.at("/error/type").asText());
            assertTrue(result.at("/error/message").asText().contains("RecordTooLargeException"), result.toString());
            assertEquals("'next'", PlainKafka.resultOf(events, after, WAIT).get("value").asText());

            String reason = null;
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (reason == null && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : deadLetters.poll(Duration.ofMillis(200))) {
                    if (r.value() != null && r.value().contains(id)) {
                        reason = new String(r.headers().lastHeader("dead-letter-reason").value(), StandardCharsets.UTF_8);
                    }
                }
            }
            assertNotNull(reason, "the request is in the dead-letter topic");
            assertTrue(reason.contains(small) && reason.contains("RecordTooLargeException"), reason);
        }
        assertTrue(redis.key().exists(RedisKeys.ofRequest("published", id)),
                "the error result counts as the answer: a redelivery does not answer again");
    }

    /**
     * A request cannot have the worker write into the farm's own streams: one whose replyTo names
     * a request topic or control is dead-lettered, unanswered and unrun, and nothing of it lands there.
     */
    @Test
    void aReplyToNamingOneOfTheFarmsOwnTopicsIsDeadLetteredAndNothingIsWrittenThere() {
        List<String> farmTopics = List.of(REQUESTS, "execfarm.requests.python.shared", "execfarm.control");
        Map<String, String> topicOf = new HashMap<>();
        List<KafkaConsumer<String, String>> watchers = new ArrayList<>();
        try (KafkaConsumer<String, String> deadLetters = kafka.consumer("execfarm.requests.dlq")) {
            farmTopics.forEach(topic -> watchers.add(kafka.consumer(topic)));
            for (String topic : farmTopics) {
                String id = UUID.randomUUID().toString();
                topicOf.put(id, topic);
                kafka.send(REQUESTS, id, request(id, "print('must not run')\n1", "\"replyTo\":\"" + topic + "\""));
            }
            Map<String, String> reasons = PlainKafka.deadLetterReasons(deadLetters, topicOf.keySet(), WAIT);
            assertEquals(topicOf.keySet(), reasons.keySet(), "every such request is in the dead-letter topic");
            reasons.forEach((id, reason) -> assertTrue(reason.contains("not one of the farm's own")
                    && reason.contains(topicOf.get(id)), reason));
            kafka.awaitConsumed(WORKERS, REQUESTS, WAIT);
            for (KafkaConsumer<String, String> watcher : watchers) {
                List<String> written = PlainKafka.readToEnd(watcher, WAIT).stream()
                        .filter(r -> topicOf.containsKey(r.key()))
                        // The request itself, as sent; anything else keyed by its id was written by the worker.
                        .filter(r -> !r.topic().equals(REQUESTS) || !r.value().startsWith("{\"v\":1,\"id\":"))
                        .map(r -> r.topic() + ": " + r.value()).toList();
                assertEquals(List.of(), written, "the worker wrote nothing of these requests into the farm's topics");
            }
        } finally {
            watchers.forEach(KafkaConsumer::close);
        }
        topicOf.keySet().forEach(id -> assertFalse(redis.key().exists(RedisKeys.ofRequest("result", id)), "no result of " + id));
    }

    @Test
    void aCancelBeforeTheRequestStartsMeansItNeverRuns() {
        String id = UUID.randomUUID().toString();
        kafka.send("execfarm.control", id, "{\"v\":1,\"type\":\"cancel\",\"requestId\":\"" + id + "\"}");
        await().atMost(WAIT).until(() -> redis.key().exists(RedisKeys.ofRequest("cancel", id)));
        kafka.send(REQUESTS, id, request(id, "print('must not run')", "\"replyTo\":\"" + replies + "\""));
        List<JsonNode> got = eventsUntilResult(events, id, WAIT);
        assertEquals(1, got.size(), "no started or output event: " + got);
        assertEquals("cancelled", got.get(0).get("status").asText());
    }

    @Test
    void aCancelDuringExecutionStopsItAndKeepsItsOutput() {
        String id = UUID.randomUUID().toString();
        kafka.send(REQUESTS, id, request(id, "import time\nprint('working', flush=True)\ntime.sleep(60)",
                "\"replyTo\":\"" + replies + "\""));
        List<JsonNode> seen = PlainKafka.eventsUntil(events, id, "output", WAIT);
        kafka.send("execfarm.control", id, "{\"v\":1,\"type\":\"cancel\",\"requestId\":\"" + id + "\"}");
        List<JsonNode> rest = eventsUntilResult(events, id, Duration.ofSeconds(20));
        assertEquals("cancelled", last(rest).get("status").asText(), rest.toString());
        assertEquals("working\n", seen.stream().filter(e -> "output".equals(e.get("type").asText()))
                .map(e -> e.get("text").asText()).reduce("", String::concat));
    }

    @Test
    void aTimeoutEndsTheRequestWithItsOutput() {
        String id = UUID.randomUUID().toString();
        kafka.send(REQUESTS, id, request(id, "print('spinning', flush=True)\nwhile True:\n    pass",
                "\"replyTo\":\"" + replies + "\",\"timeoutMs\":1000"));
        List<JsonNode> got = eventsUntilResult(events, id, WAIT);
        assertEquals("timeout", last(got).get("status").asText());
        assertTrue(got.stream().anyMatch(e -> "spinning\n".equals(e.path("text").asText())));
    }

    @Test
    void aRequestDeliveredTwiceRunsAndIsAnsweredOnce() {
        String id = UUID.randomUUID().toString();
        String body = request(id, "print('ran')\n'done'", "\"replyTo\":\"" + replies + "\"");
        kafka.send(REQUESTS, id, body);
        eventsUntilResult(events, id, WAIT);
        kafka.send(REQUESTS, id, body);
        await().atMost(WAIT).until(() -> "2".equals(redis.value(String.class).get(RedisKeys.ofRequest("attempts", id))));
        kafka.awaitConsumed(WORKERS, REQUESTS, WAIT);
        List<ConsumerRecord<String, String>> later = PlainKafka.readToEnd(events, WAIT);
        assertFalse(later.stream().anyMatch(r -> id.equals(r.key())),
                "the second delivery neither ran nor published again: " + later);
    }

    @Test
    void aResultStoredButNeverPublishedIsPublishedFromRedisWhenTheRequestComesAgain() {
        // As a worker leaves it that died after storing the result and before the broker took it.
        String id = UUID.randomUUID().toString();
        String stored = "{\"v\":1,\"type\":\"result\",\"requestId\":\"" + id + "\",\"status\":\"ok\",\"value\":\"'stored'\","
                + "\"error\":null,\"truncated\":false,\"timings\":{\"queuedMs\":0,\"acquireMs\":0,\"execMs\":1,\"totalMs\":1},"
                + "\"workerId\":\"gone\",\"attempt\":1}";
        redis.value(String.class).setex(RedisKeys.ofRequest("result", id), 600, stored);
        redis.value(String.class).setex(RedisKeys.ofRequest("attempts", id), 600, "1");
        kafka.send(REQUESTS, id, request(id, "'ran again'", "\"replyTo\":\"" + replies + "\""));

        List<JsonNode> got = eventsUntilResult(events, id, WAIT);
        assertEquals(1, got.size(), "no started event: it did not run again: " + got);
        assertEquals("'stored'", last(got).get("value").asText());
        assertEquals(2, last(got).get("attempt").asInt());
    }

    @Test
    void aResultPublishedButNeverMarkedSoIsNotPublishedAgain() {
        // As a worker leaves it that died after the broker took the result and before it marked it published.
        String id = UUID.randomUUID().toString();
        String body = request(id, "'once'", "\"replyTo\":\"" + replies + "\"");
        kafka.send(REQUESTS, id, body);
        assertEquals("'once'", last(eventsUntilResult(events, id, WAIT)).get("value").asText());
        redis.key().del(RedisKeys.ofRequest("published", id));

        kafka.send(REQUESTS, id, body);
        await().atMost(WAIT).until(() -> redis.key().exists(RedisKeys.ofRequest("published", id)));
        kafka.awaitConsumed(WORKERS, REQUESTS, WAIT);
        List<ConsumerRecord<String, String>> later = PlainKafka.readToEnd(events, WAIT);
        assertFalse(later.stream().anyMatch(r -> id.equals(r.key())), "found on the reply topic, not published again: " + later);
    }

    @Test
    void aBrieflyUnreachableBrokerLosesNothing() {
        Assumptions.assumeTrue(infra != null && infra.owned(), "needs a broker this test started itself");
        String id = UUID.randomUUID().toString();
        kafka.send(REQUESTS, id, request(id, "import time\nprint('before', flush=True)\ntime.sleep(1)\nprint('after')\n7",
                "\"replyTo\":\"" + replies + "\""));
        PlainKafka.eventsUntil(events, id, "started", WAIT);
        infra.pause(TestInfra.Component.KAFKA, Duration.ofSeconds(4));
        List<JsonNode> rest = eventsUntilResult(events, id, WAIT);
        assertEquals("ok", last(rest).get("status").asText(), rest.toString());
        assertEquals("7", last(rest).get("value").asText());
    }

    @Test
    void aBrieflyUnreachableRedisLosesNothing() {
        Assumptions.assumeTrue(infra != null && infra.owned(), "needs a Redis this test started itself");
        String id = UUID.randomUUID().toString();
        infra.pause(TestInfra.Component.REDIS, Duration.ofSeconds(4));
        kafka.send(REQUESTS, id, request(id, "print('through')\n8", "\"replyTo\":\"" + replies + "\""));
        List<JsonNode> got = eventsUntilResult(events, id, WAIT);
        assertEquals("ok", last(got).get("status").asText(), got.toString());
        assertEquals("8", last(got).get("value").asText());
        assertEquals("8", PlainKafka.read(redis.value(String.class).get(RedisKeys.ofRequest("result", id))).get("value").asText(),
                "the result reached Redis once it was back");
    }

    @Test
    void aRedisKilledAndRestartedLosesNothingItAcknowledgedAndRequestsMeanwhileWaitForIt() throws Exception {
        Assumptions.assumeTrue(infra != null && infra.owned(), "needs a Redis this test started itself");
        String running = UUID.randomUUID().toString();
        kafka.send(REQUESTS, running, request(running, "import time\nprint('before', flush=True)\ntime.sleep(2)\n9",
                "\"replyTo\":\"" + replies + "\""));
        PlainKafka.eventsUntil(events, running, "started", WAIT);
        CompletableFuture<Void> restart = CompletableFuture.runAsync(
                () -> infra.restart(TestInfra.Component.REDIS, Duration.ofSeconds(3), true));
        await().atMost(WAIT).until(() -> !redisAnswers());
        // Sent while Redis is down: the worker's claim fails, is retried, and succeeds when Redis is back.
        String meanwhile = UUID.randomUUID().toString();
        kafka.send(REQUESTS, meanwhile, request(meanwhile, "10", "\"replyTo\":\"" + replies + "\""));
        restart.get(2, TimeUnit.MINUTES);

        assertEquals("1", redis.value(String.class).get(RedisKeys.ofRequest("attempts", running)),
                "the delivery counted before the crash is still there: Redis keeps an append-only file");
        Map<String, List<JsonNode>> results = new HashMap<>();
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (results.size() < 2 && System.nanoTime() < deadline) {
            for (ConsumerRecord<String, String> r : events.poll(Duration.ofMillis(200))) {
                JsonNode event = PlainKafka.read(r.value());
                if ("result".equals(event.get("type").asText())) {
                    results.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(event);
                }
            }
        }
        assertEquals(Set.of(running, meanwhile), results.keySet(), "results within " + WAIT + ": " + results);
        kafka.awaitConsumed(WORKERS, REQUESTS, WAIT);
        PlainKafka.readToEnd(events, WAIT).forEach(r -> results.computeIfAbsent(r.key(), k -> new ArrayList<>())
                .add(PlainKafka.read(r.value())));
        for (Map.Entry<String, String> expected : Map.of(running, "9", meanwhile, "10").entrySet()) {
            List<JsonNode> got = results.getOrDefault(expected.getKey(), List.of());
            assertEquals(1, got.size(), "one result for " + expected.getKey() + ": " + got);
            assertEquals("ok", got.get(0).get("status").asText(), got.toString());
            assertEquals(expected.getValue(), got.get(0).get("value").asText());
        }
    }

    private boolean redisAnswers() {
        try {
            redis.key().exists("execfarm:probe");
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    @Test
    void aBrokerStoppedAndStartedAgainMidRequestLosesNothing() {
        Assumptions.assumeTrue(infra != null && infra.owned(), "needs a broker this test started itself");
        String id = UUID.randomUUID().toString();
        kafka.send(REQUESTS, id, request(id, "import time\nprint('before', flush=True)\ntime.sleep(1)\nprint('after')\n10",
                "\"replyTo\":\"" + replies + "\""));
        PlainKafka.eventsUntil(events, id, "started", WAIT);
        infra.restart(TestInfra.Component.KAFKA, Duration.ofSeconds(1), false);
        List<JsonNode> rest = eventsUntilResult(events, id, Duration.ofSeconds(120));
        assertEquals("ok", last(rest).get("status").asText(), rest.toString());
        assertEquals("10", last(rest).get("value").asText());

        String after = UUID.randomUUID().toString();
        kafka.send(REQUESTS, after, request(after, "'after the restart'", "\"replyTo\":\"" + replies + "\""));
        assertEquals("'after the restart'", last(eventsUntilResult(events, after, Duration.ofSeconds(120))).get("value").asText());
        // Both answered records are committed, the one answered across the restart too: a commit that failed meanwhile
        // is tried again rather than left to the partition's next record.
        kafka.awaitConsumed(WORKERS, REQUESTS, WAIT);
    }

    @Test
    void aMemoryBombEndsSayingSoIsCountedAndTheWorkerCarriesOn() {
        Assumptions.assumeTrue(pools.limitsMemory(), "this worker can give its processes no memory limit (root, cgroups)");
        String id = UUID.randomUUID().toString();
        kafka.send(REQUESTS, id, request(id, "blocks = []\nwhile True:\n    blocks.append(bytearray(16 * 1024 ** 2))",
                "\"replyTo\":\"" + replies + "\""));
        double before = count("execfarm.sandbox.kills", "limit", "memory", "runtime", "python");
        JsonNode result = last(eventsUntilResult(events, id, WAIT));
        assertEquals("crashed", result.get("status").asText(), result.toString());
        assertEquals("MemoryLimitExceeded", result.at("/error/type").asText(), result.toString());
        assertEquals(before + 1, count("execfarm.sandbox.kills", "limit", "memory", "runtime", "python"), "the kill is counted");
        given().when().get("/q/metrics").then().statusCode(200)
                .body(containsString("execfarm_sandbox_kills_total{limit=\"memory\",runtime=\"python\"} " + (before + 1)));
        String next = UUID.randomUUID().toString();
        kafka.send(REQUESTS, next, request(next, "6 * 7", "\"replyTo\":\"" + replies + "\""));
        assertEquals("42", last(eventsUntilResult(events, next, WAIT)).get("value").asText());
    }

    @Test
    void aRequestTakenAfterItsStartByIsAnsweredExpiredWithoutRunning() {
        String id = UUID.randomUUID().toString();
        kafka.send(REQUESTS, id, request(id, "print('ran')\n1", "\"replyTo\":\"" + replies + "\",\"startBy\":\""
                + java.time.Instant.now().minusSeconds(1) + "\""));
        List<JsonNode> got = eventsUntilResult(events, id, WAIT);
        assertEquals(1, got.size(), "neither started nor any output: " + got);
        JsonNode result = last(got);
        assertEquals("expired", result.get("status").asText(), result.toString());
        assertEquals("Expired", result.at("/error/type").asText(), result.toString());
    }

    @Test
    void healthAndMetricsDescribeTheWorker() {
        // Ready again within moments of any outage another test caused: readiness follows the broker.
        await().atMost(WAIT).untilAsserted(() -> given().when().get("/q/health/ready").then().statusCode(200)
                .body(containsString("warm-processes")));
        double okBefore = count("execfarm.executions", "runtime", "python", "status", "ok");
        double timedBefore = count("execfarm.execution.time", "runtime", "python");
        double waitedBefore = count("execfarm.queue.wait", "runtime", "python");
        String id = UUID.randomUUID().toString();
        kafka.send(REQUESTS, id, request(id, "1", "\"replyTo\":\"" + replies + "\""));
        eventsUntilResult(events, id, WAIT);
        // Recorded before the result is published.
        assertEquals(okBefore + 1, count("execfarm.executions", "runtime", "python", "status", "ok"), "the execution is counted");
        assertEquals(timedBefore + 1, count("execfarm.execution.time", "runtime", "python"), "its time on a process is recorded");
        assertEquals(waitedBefore + 1, count("execfarm.queue.wait", "runtime", "python"), "its wait in the queue is recorded");
        given().when().get("/q/metrics").then().statusCode(200)
                .body(containsString("execfarm_executions_total{"))
                .body(containsString("execfarm_execution_time_seconds_bucket{"))
                .body(containsString("execfarm_queue_wait_seconds_bucket{"))
                .body(containsString("execfarm_pool_processes{runtime=\"python\",state=\"idle\"}"))
                .body(containsString("execfarm_process_restarts_total{"));
    }

    /** What a counter or timer has counted so far (0 before it exists), read without registering it. */
    private double count(String name, String... tags) {
        return registry.find(name).tags(tags).meters().stream()
                .flatMap(meter -> StreamSupport.stream(meter.measure().spliterator(), false))
                .filter(measured -> measured.getStatistic() == Statistic.COUNT).mapToDouble(Measurement::getValue).sum();
    }

    private static JsonNode last(List<JsonNode> events) {
        return events.get(events.size() - 1);
    }
}
