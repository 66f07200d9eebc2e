package io.execfarm.worker.messaging;

import static io.execfarm.worker.messaging.PlainKafka.eventsUntilResult;
import static io.execfarm.worker.messaging.PlainKafka.quote;
import static io.execfarm.worker.messaging.PlainKafka.request;
import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.execfarm.client.ClientSettings;
import io.execfarm.client.FarmClient;
import io.execfarm.client.Job;
import io.execfarm.contracts.ExecutionRequest;
import io.execfarm.contracts.Result;
import io.execfarm.contracts.Topics;
import io.execfarm.contracts.WireCodec;
import io.execfarm.localinfra.InjectTestInfra;
import io.execfarm.localinfra.TestInfra;
import io.execfarm.localinfra.TestInfraResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Sessions on one worker, a real broker and a real Redis, driven by plain Kafka clients: what a
 * session keeps, how it survives its process, who may use it, when it ends, how much it may hold,
 * and the order of its requests.
 */
@QuarkusTest
@QuarkusTestResource(TestInfraResource.AsWorker.class)
class SessionsOnKafkaTest {

    private static final String REQUESTS = "execfarm.requests.python";
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final String OWNER = "acme";
    /** Everything a session should keep: a variable, a function, a class, an import, and a token a replay would change. */
    static final String DEFINE = """
            carried_value = 41
            def answer():
                return carried_value + 1
            class CarriedPoint:
                def __init__(self, x):
                    self.x = x
            import base64 as carried_b64
            import os
            carried_token = os.urandom(8).hex()
            print('defined')
            """;
    /** Uses all of it: "42 42 4 <token>". */
    static final String USE = "f'{answer()} {CarriedPoint(6).x * 7} {len(carried_b64.b64encode(b\"42\"))} {carried_token}'";

    @ConfigProperty(name = "quarkus.redis.hosts")
    String redisUrl;

    @InjectTestInfra
    TestInfra infra;

    private static final WireCodec CODEC = new WireCodec();

    private PlainKafka kafka;
    /** The Java client of each tenant a test runs as, reading the test's reply topic. */
    private final Map<String, FarmClient> clients = new HashMap<>();
    private TestSessions sessions;
    private String replies;
    private KafkaConsumer<String, String> events;

    @BeforeEach
    void connect() {
        kafka = new PlainKafka(infra.kafkaAdmin());
        sessions = new TestSessions(redisUrl);
        replies = Topics.tenantTopics("test") + "replies-" + UUID.randomUUID();
        events = kafka.consumer(replies);
    }

    @AfterEach
    void disconnect() {
        clients.values().forEach(FarmClient::close);
        events.close();
        sessions.close();
        kafka.close();
    }

    @Test
    void aSessionKeepsVariablesFunctionsClassesAndImportsOnItsPinnedProcess() {
        String session = sessions.create(OWNER);
        JsonNode defined = run(session, OWNER, DEFINE);
        assertEquals("ok", defined.get("status").asText(), defined.toString());
        String first = value(run(session, OWNER, USE));
        assertTrue(first.startsWith("'42 42 4 "), first);
        assertEquals(first, value(run(session, OWNER, USE)), "the same process: the token is unchanged");
        assertEquals("3", sessions.field(session, "snippets"), "every request that ran is in the history");
    }

    @Test
    void aSessionSurvivesItsProcessCrashingAndTimingOut() {
        String session = sessions.create(OWNER);
        String before = define(session);

        JsonNode crash = run(session, OWNER, "import os\nos._exit(3)");
        assertEquals("crashed", crash.get("status").asText(), crash.toString());
        assertRebuilt(before, value(run(session, OWNER, USE)));

        JsonNode timeout = run(session, OWNER, "while True:\n    pass", Duration.ofSeconds(1));
        assertEquals("timeout", timeout.get("status").asText(), timeout.toString());
        assertTrue(value(run(session, OWNER, USE)).startsWith("'42 42 4 "), "rebuilt again after the timeout");
        assertEquals("4", sessions.field(session, "snippets"), "what crashed or timed out is not in the history");
    }

    @Test
    void aSessionEvictedToMakeRoomIsRebuiltWhenItsTurnComes() {
        // The test pool has two processes, so one may be pinned: a second session takes it over.
        String first = sessions.create(OWNER);
        String before = define(first);
        String second = sessions.create(OWNER);
        assertEquals("ok", run(second, OWNER, DEFINE).get("status").asText());
        assertRebuilt(before, value(run(first, OWNER, USE)));
    }

    @Test
    void idleSessionsNeverStarveRequestsWithoutOne() {
        // More sessions than the test pool's two processes; the last one used stays pinned, idle.
        List<String> idle = new ArrayList<>();
        String before = null;
        for (int i = 0; i < 3; i++) {
            idle.add(sessions.create(OWNER));
            before = define(idle.get(i));
        }
        // Two requests on one partition run side by side: one holds the only free process...
        String holder = UUID.randomUUID().toString();
        kafka.send(REQUESTS, 0, holder, request(holder, "import time\ntime.sleep(120)",
                "\"replyTo\":" + quote(replies) + ",\"timeoutMs\":20000"));
        PlainKafka.eventsUntil(events, holder, "started", WAIT);
        // ...and the other finds none free but the idle session's, which it takes.
        String plain = UUID.randomUUID().toString();
        kafka.send(REQUESTS, 0, plain, request(plain, "6 * 7", "\"replyTo\":" + quote(replies)));

        List<JsonNode> results = new ArrayList<>();
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (results.size() < 2 && System.nanoTime() < deadline) {
            for (ConsumerRecord<String, String> r : events.poll(Duration.ofMillis(200))) {
                JsonNode event = PlainKafka.read(r.value());
                if ((holder.equals(r.key()) || plain.equals(r.key())) && "result".equals(event.get("type").asText())) {
                    results.add(event);
                }
            }
        }
        assertEquals(2, results.size(), results.toString());
        assertEquals(plain, results.get(0).get("requestId").asText(),
                "answered while the other request still ran, not after it: " + results);
        assertEquals("42", results.get(0).get("value").asText());
        assertEquals("timeout", results.get(1).get("status").asText());
        assertRebuilt(before, value(run(idle.get(2), OWNER, USE)));
    }

    @Test
    void anotherTenantCannotUseASessionNorTellThatItExists() {
        String session = sessions.create(OWNER);
        String before = define(session);

        JsonNode intruder = run(session, "intruder", "carried_token");
        assertEquals("rejected", intruder.get("status").asText(), intruder.toString());
        String missing = "sess-" + UUID.randomUUID();
        JsonNode nothing = run(missing, "intruder", "1");
        assertEquals(nothing.at("/error/type"), intruder.at("/error/type"));
        assertEquals(nothing.at("/error/message").asText().replace(missing, "<id>"),
                intruder.at("/error/message").asText().replace(session, "<id>"), "indistinguishable from no session");
        assertTrue(intruder.at("/error/message").asText().contains("does not exist"), intruder.toString());

        assertEquals(before, value(run(session, OWNER, USE)), "the owner's session and process are untouched");

        String julia = sessions.create(OWNER, "julia", Duration.ofMinutes(1), Duration.ofHours(1), 1 << 20);
        JsonNode wrongRuntime = run(julia, OWNER, "1");
        assertEquals("rejected", wrongRuntime.get("status").asText());
        assertTrue(wrongRuntime.at("/error/message").asText().contains("is a julia session"), wrongRuntime.toString());
    }

    @Test
    void aSessionEndsWhenIdleOrOldAndSaysSo() throws Exception {
        String warmUp = UUID.randomUUID().toString();
        kafka.send(REQUESTS, warmUp, request(warmUp, "1", "\"replyTo\":" + quote(replies)));
        eventsUntilResult(events, warmUp, WAIT);

        String idle = sessions.create(OWNER, "python", Duration.ofSeconds(2), Duration.ofHours(1), 1 << 20);
        assertEquals("ok", run(idle, OWNER, "x = 1").get("status").asText());
        await().atMost(WAIT).until(() -> !sessions.exists(idle));
        JsonNode ended = run(idle, OWNER, "x");
        assertEquals("rejected", ended.get("status").asText(), ended.toString());
        assertEquals("SessionNotFound", ended.at("/error/type").asText());
        assertTrue(ended.at("/error/message").asText().contains("idle timeout or maximum age"), ended.toString());
        assertFalse(sessions.exists(idle), "its keys expired");

        String old = sessions.create(OWNER, "python", Duration.ofMinutes(10), Duration.ofSeconds(3), 1 << 20);
        assertEquals("ok", run(old, OWNER, "x = 1").get("status").asText());
        await().atMost(WAIT).until(() -> !sessions.exists(old));
        assertEquals("SessionNotFound", run(old, OWNER, "x").at("/error/type").asText(), "use does not extend its maximum age");
    }

    @Test
    void aSessionsHistoryIsBoundedAndTheRejectionStatesTheLimit() {
        String session = sessions.create(OWNER, "python", Duration.ofMinutes(1), Duration.ofHours(1), 100);
        String sixtyBytes = "a = '" + "x".repeat(54) + "'";
        assertEquals(60, sixtyBytes.length());
        assertEquals("ok", run(session, OWNER, sixtyBytes).get("status").asText());
        JsonNode over = run(session, OWNER, sixtyBytes);
        assertEquals("rejected", over.get("status").asText(), over.toString());
        assertEquals("SessionHistoryFull", over.at("/error/type").asText());
        assertTrue(over.at("/error/message").asText().contains("limit of 100 bytes"), over.toString());
        assertEquals("60", value(run(session, OWNER, "len(a) + 6")), "a request that fits still runs");
    }

    @Test
    void fiftyQuickRequestsToOneSessionRunInSubmissionOrder() {
        String session = sessions.create(OWNER);
        run(session, OWNER, "xs = []");
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            String id = UUID.randomUUID().toString();
            ids.add(id);
            kafka.send(REQUESTS, session, request(id, "xs.append(" + i + ")\nlen(xs)", fields(session, OWNER)));
        }
        Map<String, JsonNode> results = new HashMap<>();
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (results.size() < ids.size() && System.nanoTime() < deadline) {
            for (ConsumerRecord<String, String> r : events.poll(Duration.ofMillis(100))) {
                JsonNode event = PlainKafka.read(r.value());
                if (ids.contains(r.key()) && "result".equals(event.get("type").asText())) {
                    results.put(r.key(), event);
                }
            }
        }
        for (int i = 0; i < ids.size(); i++) {
            JsonNode result = results.get(ids.get(i));
            assertEquals(Integer.toString(i + 1), result == null ? null : result.get("value").asText(),
                    "request " + i + " ran " + (i + 1) + "th: " + result);
        }
        StringBuilder expected = new StringBuilder("[");
        for (int i = 0; i < 50; i++) {
            expected.append(i == 0 ? "" : ", ").append(i);
        }
        assertEquals(expected.append(']').toString(), value(run(session, OWNER, "xs")));
    }

    /**
     * Two sessions on one partition: the first's long request holds neither the other session's
     * request nor anything but its own session's next request, which runs only after it.
     */
    @Test
    void aLongRequestOfOneSessionHoldsUpOnlyThatSessionOnItsPartition() {
        String slow = sessions.create(OWNER);
        String quick = sessions.create(OWNER);
        String slowFirst = UUID.randomUUID().toString();
        String slowSecond = UUID.randomUUID().toString();
        String quickOnly = UUID.randomUUID().toString();
        kafka.send(REQUESTS, 0, slow, request(slowFirst, "import time\ntime.sleep(5)\n'first'", fields(slow, OWNER)));
        kafka.send(REQUESTS, 0, slow, request(slowSecond, "'second'", fields(slow, OWNER)));
        kafka.send(REQUESTS, 0, quick, request(quickOnly, "'other session'", fields(quick, OWNER)));

        List<String> order = new ArrayList<>();
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (order.stream().filter(event -> event.startsWith("result ")).count() < 3 && System.nanoTime() < deadline) {
            for (ConsumerRecord<String, String> r : events.poll(Duration.ofMillis(100))) {
                JsonNode event = PlainKafka.read(r.value());
                String type = event.get("type").asText();
                if ((type.equals("started") || type.equals("result"))
                        && List.of(slowFirst, slowSecond, quickOnly).contains(r.key())) {
                    String who = r.key().equals(slowFirst) ? "slow-1" : r.key().equals(slowSecond) ? "slow-2" : "quick";
                    order.add(type + " " + who);
                }
            }
        }
        assertTrue(order.indexOf("result quick") >= 0 && order.indexOf("result quick") < order.indexOf("result slow-1"),
                "the other session's request was answered while the long one ran: " + order);
        assertTrue(order.indexOf("result slow-1") >= 0 && order.indexOf("result slow-1") < order.indexOf("result slow-2"),
                "the session's second request ran after its first: " + order);
        assertTrue(order.indexOf("started slow-2") < 0 || order.indexOf("started slow-2") > order.indexOf("result slow-1"),
                "the session's second request started only after its first ended: " + order);
    }

    @Test
    void aRedeliveredSessionRequestIsAppliedOnce() {
        String session = sessions.create(OWNER);
        run(session, OWNER, "n = 0");
        String id = UUID.randomUUID().toString();
        String body = request(id, "n += 1\nn", fields(session, OWNER));
        kafka.send(REQUESTS, session, body);
        assertEquals("1", PlainKafka.resultOf(events, id, WAIT).get("value").asText());
        kafka.send(REQUESTS, session, body);
        assertEquals("1", value(run(session, OWNER, "n")), "the duplicate neither ran nor entered the history");
        assertEquals("3", sessions.field(session, "snippets"));
    }

    @Test
    void aSessionRequestWhoseWorkerDiedAfterStoringItsResultIsRecordedOnceAndNotRunAgain() {
        // The result and the session sit in different slots of a Redis Cluster: a worker that died
        // between the two writes leaves the result stored and the history without the request.
        String session = sessions.create(OWNER);
        run(session, OWNER, "n = 0");
        String id = UUID.randomUUID().toString();
        String stored = "{\"v\":1,\"type\":\"result\",\"requestId\":\"" + id + "\",\"status\":\"ok\",\"value\":\"1\","
                + "\"error\":null,\"truncated\":false,\"timings\":{\"queuedMs\":0,\"acquireMs\":0,\"execMs\":1,\"totalMs\":1},"
                + "\"workerId\":\"gone\",\"attempt\":1}";
        sessions.storeResult(id, stored);
        String body = request(id, "n += 1\nn", fields(session, OWNER));

        kafka.send(REQUESTS, session, body);
        assertEquals("1", PlainKafka.resultOf(events, id, WAIT).get("value").asText(), "answered from Redis");
        assertEquals("2", sessions.field(session, "snippets"), "and recorded in the history");
        kafka.send(REQUESTS, session, body);
        assertEquals("1", value(run(session, OWNER, "n")),
                "the session's process caught up from the history, once: the request did not run again");
        assertEquals("3", sessions.field(session, "snippets"));
    }

    @Test
    void aDeletedSessionReleasesItsProcessAndRejectsRequests() {
        String session = sessions.create(OWNER);
        run(session, OWNER, "x = 1");
        given().when().get("/q/metrics").then().body(containsString("execfarm_session_pinned_processes{runtime=\"python\"} 1.0"));
        sessions.delete(session);
        // Polled as text: a failed body assertion would print the whole metrics page on every poll.
        await().atMost(WAIT).until(() -> given().when().get("/q/metrics").asString()
                .contains("execfarm_session_pinned_processes{runtime=\"python\"} 0.0"));
        assertEquals("SessionNotFound", run(session, OWNER, "x").at("/error/type").asText());
    }

    @Test
    void aBrieflyUnreachableRedisLosesNeitherTheRequestNorTheSession() {
        Assumptions.assumeTrue(infra != null && infra.owned(), "needs a Redis this test started itself");
        String session = sessions.create(OWNER);
        String before = define(session);
        infra.pause(TestInfra.Component.REDIS, Duration.ofSeconds(3));
        assertEquals(before, value(run(session, OWNER, USE)), "ran on the pinned process once Redis was back");
        assertEquals("3", sessions.field(session, "snippets"), "and was recorded in the history once");
    }

    /** Runs {@link #DEFINE} in the session, then {@link #USE}; returns what USE answered. */
    private String define(String session) {
        run(session, OWNER, DEFINE);
        return value(run(session, OWNER, USE));
    }

    @Test
    void aSessionRecordTheOpeningScriptFailsOnIsReportedAsThatNotAsRedisUnreachable() {
        String session = sessions.create(OWNER);
        sessions.set(session, "createdAt", "not-a-number");

        JsonNode result = run(session, OWNER, "1 + 1");

        assertEquals("crashed", result.get("status").asText(), result.toString());
        JsonNode error = result.get("error");
        assertEquals("FarmError", error.get("type").asText(), result.toString());
        assertFalse(error.get("message").asText().contains("unreachable"), result.toString());
        assertTrue(error.get("message").asText().contains("opening session " + session), result.toString());
    }

    private JsonNode run(String session, String tenant, String code) {
        return run(session, tenant, code, Duration.ofMillis(ExecutionRequest.DEFAULT_TIMEOUT_MS));
    }

    /** Runs {@code code} in the session as {@code tenant}, through the Java client; its result as JSON. */
    private JsonNode run(String session, String tenant, String code, Duration timeout) {
        FarmClient client = clients.computeIfAbsent(tenant, name -> FarmClient.connect(
                ClientSettings.direct(name, infra.kafkaAdmin().clientSettings()).withReplyTopic(replies)));
        try {
            Result result = client.run(Job.of("python", code).inSession(session).withTimeout(timeout)).result();
            return PlainKafka.read(new String(CODEC.encode(result), StandardCharsets.UTF_8));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private String fields(String session, String tenant) {
        return "\"session\":" + quote(session) + ",\"tenant\":" + quote(tenant) + ",\"replyTo\":" + quote(replies);
    }

    /**
     * {@code after} is {@link #USE}'s value on a process that rebuilt the session: everything
     * defined is there (the "42 42 4" prefix), and the token differs, since the replay drew it anew.
     */
    static void assertRebuilt(String before, String after) {
        assertEquals(before.substring(0, 9), after.substring(0, 9), "everything defined is back: " + after);
        assertNotEquals(before, after, "on a new process: the replay drew a new token");
    }

    private static String value(JsonNode result) {
        assertEquals("ok", result.get("status").asText(), result.toString());
        return result.get("value").asText();
    }
}
