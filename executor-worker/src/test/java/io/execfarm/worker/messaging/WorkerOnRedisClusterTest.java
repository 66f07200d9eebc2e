package io.execfarm.worker.messaging;

import static io.execfarm.worker.messaging.PlainKafka.quote;
import static io.execfarm.worker.messaging.PlainKafka.request;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.execfarm.contracts.Topics;
import io.execfarm.localinfra.InjectTestInfra;
import io.execfarm.localinfra.LocalInfra;
import io.execfarm.localinfra.TestInfra;
import io.execfarm.localinfra.TestInfraResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.vertx.mutiny.redis.client.Response;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * One worker on three Kafka brokers and a Redis Cluster of three masters with a replica each: the
 * farm's Redis use fits a cluster (no script or transaction spans two slots, and the keys spread
 * over every master), and a master killed under load is failed over without a request lost,
 * answered twice, or a session losing what it held.
 */
@QuarkusTest
@TestProfile(WorkerOnRedisClusterTest.OnCluster.class)
class WorkerOnRedisClusterTest {

    /** The cluster alone: not the single broker and Redis every other worker test shares. */
    public static final class OnCluster implements QuarkusTestProfile {
        @Override
        public List<TestResourceEntry> testResources() {
            return List.of(new TestResourceEntry(TestInfraResource.AsWorkerOnCluster.class));
        }

        @Override
        public boolean disableGlobalTestResources() {
            return true;
        }
    }

    private static final String REQUESTS = "execfarm.requests.python";
    private static final Duration WAIT = Duration.ofSeconds(90);
    private static final String OWNER = "acme";

    @ConfigProperty(name = "quarkus.redis.hosts")
    String redisUrls;

    @InjectTestInfra
    TestInfra infra;

    private PlainKafka kafka;
    private TestSessions sessions;
    private String replies;
    private KafkaConsumer<String, String> events;

    @BeforeEach
    void connect() {
        kafka = new PlainKafka(infra.kafkaAdmin());
        sessions = new TestSessions(redisUrls, true);
        replies = Topics.tenantTopics("test") + "replies-" + UUID.randomUUID();
        events = kafka.consumer(replies);
    }

    @AfterEach
    void disconnect() {
        events.close();
        sessions.close();
        kafka.close();
    }

    @Test
    void requestsAndSessionsRunWithTheirKeysSpreadOverEveryMaster() {
        String session = sessions.create(OWNER);
        assertEquals("ok", run(session, "n = 20").get("status").asText());
        assertEquals("21", value(run(session, "n += 1\nn")));
        Map<String, Integer> sent = new HashMap<>();
        for (int i = 0; i < 30; i++) {
            String id = UUID.randomUUID().toString();
            sent.put(id, i);
            kafka.send(REQUESTS, id, request(id, i + " * 2", "\"replyTo\":" + quote(replies)));
        }

        Map<String, JsonNode> results = results(sent.keySet());
        sent.forEach((id, i) -> assertEquals(Integer.toString(i * 2), results.get(id).get("value").asText(), id));
        assertEquals("2", sessions.field(session, "snippets"));
        Map<String, Long> keysPerMaster = keysPerMaster();
        assertEquals(3, keysPerMaster.size(), "three masters: " + keysPerMaster);
        keysPerMaster.forEach((master, keys) -> assertTrue(keys > 0, "every master holds keys: " + keysPerMaster));
    }

    @Test
    void aRedisMasterKilledUnderLoadIsFailedOverWithNothingLostOrAnsweredTwice() throws Exception {
        String session = sessions.create(OWNER);
        assertEquals("ok", run(session, "n = 0").get("status").asText());
        List<String> sent = new ArrayList<>();
        CompletableFuture<Void> kill = CompletableFuture.runAsync(() -> {
            sleep(Duration.ofSeconds(2));
            LocalInfra local = (LocalInfra) infra;
            local.restart(local.redisMaster(String.join("\n", clusterNodes()), -1), Duration.ofSeconds(6), true);
        });
        for (int i = 0; i < 40; i++) {
            String id = UUID.randomUUID().toString();
            sent.add(id);
            kafka.send(REQUESTS, id, request(id, "import time; time.sleep(0.25); " + i, "\"replyTo\":" + quote(replies)));
            if (i % 8 == 0) {
                String increment = UUID.randomUUID().toString();
                sent.add(increment);
                kafka.send(REQUESTS, session, request(increment, "n += 1\nn", sessionFields(session)));
            }
            Thread.sleep(100);
        }
        kill.get();

        Map<String, JsonNode> results = results(sent);
        results.forEach((id, result) -> assertEquals("ok", result.get("status").asText(), result.toString()));
        assertEquals("5", value(run(session, "n")), "each of the session's five increments applied once");
        assertEquals("7", sessions.field(session, "snippets"));
    }

    /** Exactly one result per id on the reply topic, however long the failover made them wait. */
    private Map<String, JsonNode> results(java.util.Collection<String> ids) {
        Map<String, JsonNode> results = new HashMap<>();
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (results.size() < ids.size() && System.nanoTime() < deadline) {
            for (ConsumerRecord<String, String> record : events.poll(Duration.ofMillis(200))) {
                JsonNode event = PlainKafka.read(record.value());
                String id = event.path("requestId").asText();
                if ("result".equals(event.path("type").asText()) && ids.contains(id)) {
                    JsonNode earlier = results.put(id, event);
                    assertEquals(null, earlier, "answered twice: " + id);
                }
            }
        }
        assertEquals(ids.size(), results.size(), "every request answered");
        for (ConsumerRecord<String, String> record : PlainKafka.readToEnd(events, Duration.ofSeconds(5))) {
            JsonNode event = PlainKafka.read(record.value());
            assertTrue(!"result".equals(event.path("type").asText()), "answered twice: " + record.value());
        }
        return results;
    }

    private JsonNode run(String session, String code) {
        String id = UUID.randomUUID().toString();
        kafka.send(REQUESTS, session, request(id, code, sessionFields(session)));
        return PlainKafka.resultOf(events, id, WAIT);
    }

    private String sessionFields(String session) {
        return "\"session\":" + quote(session) + ",\"tenant\":" + quote(OWNER) + ",\"replyTo\":" + quote(replies);
    }

    /** The cluster's masters (address: keys held), from the cluster's own view of itself. */
    private Map<String, Long> keysPerMaster() {
        Map<String, Long> keys = new HashMap<>();
        for (String line : clusterNodes()) {
            String[] fields = line.split(" ");
            if (fields[2].contains("master") && !fields[2].contains("fail")) {
                String address = fields[1].substring(0, fields[1].indexOf('@'));
                try (TestSessions node = new TestSessions(withAddress(address), false)) {
                    keys.put(address, node.api().dbsizeAndAwait().toLong());
                }
            }
        }
        return keys;
    }

    private List<String> clusterNodes() {
        Response nodes = sessions.api().clusterAndAwait(List.of("NODES"));
        return List.of(nodes.toString().strip().split("\n"));
    }

    /** The first URL's credentials at {@code address}. */
    private String withAddress(String address) {
        String first = redisUrls.split(",")[0];
        return first.substring(0, first.lastIndexOf('@') + 1) + address;
    }

    private static String value(JsonNode result) {
        assertEquals("ok", result.get("status").asText(), result.toString());
        return result.get("value").asText();
    }

    private static void sleep(Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
