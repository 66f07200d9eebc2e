package io.execfarm.worker.messaging;

import static io.execfarm.worker.messaging.PlainKafka.eventsUntilResult;
import static io.execfarm.worker.messaging.PlainKafka.request;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.execfarm.localinfra.LocalInfra;
import io.execfarm.localinfra.AppProcess;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/** Two packaged workers in one consumer group, on a real broker and Redis. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TwoWorkersIT {

    private static final String REQUESTS = "execfarm.requests.python";
    /** Fast takeover for the test: the broker's minimum session timeout, and a claim as short. */
    private static final List<String> PROPERTIES = List.of(
            "mp.messaging.incoming.requests-python.session.timeout.ms=6000",
            "mp.messaging.incoming.requests-python.heartbeat.interval.ms=2000",
            "execfarm.worker.claim-ttl=PT6S",
            "execfarm.worker.runtime.python.pool.size=2",
            "execfarm.worker.runtime.python.pool.min-idle=2");

    private LocalInfra infra;
    private PlainKafka kafka;
    private final List<AppProcess> workers = new ArrayList<>();

    @BeforeAll
    void startWorkers() throws Exception {
        infra = LocalInfra.startOrReuse();
        kafka = new PlainKafka(infra.kafkaBootstrap());
        workers.add(AppProcess.worker("worker-a", infra.kafkaBootstrap(), infra.redisUrl(), PROPERTIES));
        workers.add(AppProcess.worker("worker-b", infra.kafkaBootstrap(), infra.redisUrl(), PROPERTIES));
    }

    @AfterAll
    void stopWorkers() throws Exception {
        for (AppProcess worker : workers) {
            worker.close();
        }
        if (kafka != null) {
            kafka.close();
        }
        if (infra != null) {
            infra.close();
        }
    }

    @Test
    @Order(1)
    void twoHundredRequestsEachGetExactlyOneResultAndBothWorkersWork() {
        String replies = "it.replies." + UUID.randomUUID();
        try (KafkaConsumer<String, String> events = kafka.consumer(replies)) {
            Set<String> ids = new HashSet<>();
            for (int i = 0; i < 200; i++) {
                String id = UUID.randomUUID().toString();
                ids.add(id);
                kafka.send(REQUESTS, id, request(id, "import time\ntime.sleep(0.02)\n" + i, "\"replyTo\":\"" + replies + "\""));
            }
            Map<String, List<JsonNode>> results = new HashMap<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(180).toNanos();
            while (results.size() < ids.size() && System.nanoTime() < deadline) {
                collectResults(events.poll(Duration.ofMillis(200)), results);
            }
            collectResults(PlainKafka.drain(events, Duration.ofSeconds(3)), results);

            assertEquals(ids, results.keySet(), "every request got a result");
            Set<String> byWorker = new HashSet<>();
            for (Map.Entry<String, List<JsonNode>> entry : results.entrySet()) {
                assertEquals(1, entry.getValue().size(), "exactly one result for " + entry.getKey() + ": " + entry.getValue());
                JsonNode result = entry.getValue().get(0);
                assertEquals("ok", result.get("status").asText(), result.toString());
                byWorker.add(result.get("workerId").asText());
            }
            assertEquals(Set.of("worker-a", "worker-b"), byWorker, "both workers did work");
        }
    }

    @Test
    @Order(2)
    void aSessionWhoseWorkerIsKilledHardContinuesOnTheOther() throws Exception {
        String replies = "it.replies." + UUID.randomUUID();
        try (KafkaConsumer<String, String> events = kafka.consumer(replies);
                TestSessions sessions = new TestSessions(infra.redisUrl())) {
            String session = sessions.create("acme");
            JsonNode defined = inSession(events, replies, session, SessionsOnKafkaTest.DEFINE);
            assertEquals("ok", defined.get("status").asText(), defined.toString());
            JsonNode before = inSession(events, replies, session, SessionsOnKafkaTest.USE);
            String owner = before.get("workerId").asText();
            assertEquals(owner, defined.get("workerId").asText(), "the partition's owner ran both");

            workers.stream().filter(w -> w.id().equals(owner)).findFirst().orElseThrow().kill();
            JsonNode after = inSession(events, replies, session, SessionsOnKafkaTest.USE);
            assertEquals("ok", after.get("status").asText(), after.toString());
            assertNotEquals(owner, after.get("workerId").asText(), "the other worker took the session over");
            String rebuilt = after.get("value").asText();
            SessionsOnKafkaTest.assertRebuilt(before.get("value").asText(), rebuilt);
            assertEquals(rebuilt, inSession(events, replies, session, SessionsOnKafkaTest.USE).get("value").asText(),
                    "and pinned there from then on");
        }
        workers.add(AppProcess.worker("worker-c", infra.kafkaBootstrap(), infra.redisUrl(), PROPERTIES));
    }

    @Test
    @Order(3)
    void aRequestWhoseWorkerIsKilledHardCompletesOnTheOther() throws Exception {
        String replies = "it.replies." + UUID.randomUUID();
        try (KafkaConsumer<String, String> events = kafka.consumer(replies)) {
            String id = UUID.randomUUID().toString();
            kafka.send(REQUESTS, id, request(id, "import time\nprint('begun', flush=True)\ntime.sleep(4)\n'survived'",
                    "\"replyTo\":\"" + replies + "\""));
            List<JsonNode> begun = PlainKafka.eventsUntil(events, id, "started", Duration.ofSeconds(60));
            String victim = begun.get(begun.size() - 1).get("workerId").asText();
            AppProcess running = workers.stream().filter(w -> w.id().equals(victim) && w.isAlive()).findFirst().orElseThrow();
            running.kill();

            List<JsonNode> after = eventsUntilResult(events, id, Duration.ofSeconds(120));
            JsonNode result = after.get(after.size() - 1);
            assertEquals("ok", result.get("status").asText(), after.toString());
            assertEquals("'survived'", result.get("value").asText());
            assertNotEquals(victim, result.get("workerId").asText(), "the other worker finished it");
            assertTrue(result.get("attempt").asInt() >= 2, "the result says it was a redelivery: " + result);
        }
    }

    private JsonNode inSession(KafkaConsumer<String, String> events, String replies, String session, String code) {
        String id = UUID.randomUUID().toString();
        kafka.send(REQUESTS, session, request(id, code, "\"session\":\"" + session + "\",\"tenant\":\"acme\","
                + "\"replyTo\":\"" + replies + "\""));
        return PlainKafka.resultOf(events, id, Duration.ofSeconds(120));
    }

    private static void collectResults(Iterable<ConsumerRecord<String, String>> records, Map<String, List<JsonNode>> results) {
        for (ConsumerRecord<String, String> r : records) {
            JsonNode event = PlainKafka.read(r.value());
            if ("result".equals(event.get("type").asText())) {
                results.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(event);
            }
        }
    }
}
