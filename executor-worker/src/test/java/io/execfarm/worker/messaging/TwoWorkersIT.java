package io.execfarm.worker.messaging;

import static io.execfarm.worker.messaging.PlainKafka.request;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.execfarm.client.ClientSettings;
import io.execfarm.client.FarmClient;
import io.execfarm.client.Job;
import io.execfarm.contracts.ExecutionEvent;
import io.execfarm.contracts.Output;
import io.execfarm.contracts.Result;
import io.execfarm.contracts.Started;
import io.execfarm.contracts.Topics;
import io.execfarm.localinfra.AppProcess;
import io.execfarm.localinfra.TestInfra;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Two packaged workers in one consumer group, on a real broker and Redis. Each test starts with two
 * live workers, whatever the tests before it killed, so no test depends on another or on their order.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TwoWorkersIT {

    private static final String REQUESTS = "execfarm.requests.python";
    private static final String SHARED = Topics.sharedRequests("python");
    private static final String GROUP = "execfarm-workers-python";
    private static final int POOL_SIZE = 2;
    /** Fast takeover for the test: the broker's minimum session timeout, and a claim as short. */
    private static final List<String> PROPERTIES = List.of(
            "mp.messaging.incoming.requests-python.session.timeout.ms=6000",
            "mp.messaging.incoming.requests-python.heartbeat.interval.ms=2000",
            "execfarm.worker.claim-ttl=PT6S",
            "execfarm.worker.shared-requests.lock-duration=PT3S",
            "execfarm.worker.runtime.python.pool.size=" + POOL_SIZE,
            "execfarm.worker.runtime.python.pool.min-idle=" + POOL_SIZE);

    private TestInfra infra;
    private PlainKafka kafka;
    private final List<AppProcess> workers = new ArrayList<>();

    @BeforeAll
    void startInfra() {
        infra = TestInfra.start();
        kafka = new PlainKafka(infra.kafkaAdmin());
    }

    /** Two live workers, each with all its consumers in the group and nobody else's left there. */
    @BeforeEach
    void twoLiveWorkers() throws Exception {
        int needed = 2 - live().size();
        for (int started = 0; live().size() < 2; started++) {
            // A worker that dies as it starts would otherwise be replaced again and again.
            assertTrue(started < needed, "a worker started for this test died: " + workers);
            workers.add(AppProcess.worker("worker-" + (char) ('a' + workers.size()), infra, PROPERTIES));
        }
        await().atMost(Duration.ofSeconds(90)).until(() -> kafka.members(GROUP) == 2
                && kafka.partitionPerMember(GROUP, REQUESTS).size() == 2);
    }

    private List<AppProcess> live() {
        return workers.stream().filter(AppProcess::isAlive).toList();
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
    void twoHundredRequestsEachGetExactlyOneResultAndBothWorkersWork() {
        String replies = Topics.tenantTopics("it") + "replies-" + UUID.randomUUID();
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
            kafka.awaitConsumed(GROUP, REQUESTS, Duration.ofSeconds(120));
            collectResults(PlainKafka.readToEnd(events, Duration.ofSeconds(60)), results);

            assertEquals(ids, results.keySet(), "every request got a result");
            Set<String> byWorker = new HashSet<>();
            for (Map.Entry<String, List<JsonNode>> entry : results.entrySet()) {
                assertEquals(1, entry.getValue().size(), "exactly one result for " + entry.getKey() + ": " + entry.getValue());
                JsonNode result = entry.getValue().get(0);
                assertEquals("ok", result.get("status").asText(), result.toString());
                byWorker.add(result.get("workerId").asText());
            }
            assertEquals(live().stream().map(AppProcess::id).collect(Collectors.toSet()), byWorker, "both workers did work");
        }
    }

    @Test
    void aSessionWhoseWorkerIsKilledHardContinuesOnTheOther() throws Exception {
        String replies = Topics.tenantTopics("it") + "replies-" + UUID.randomUUID();
        try (KafkaConsumer<String, String> events = kafka.consumer(replies);
                TestSessions sessions = new TestSessions(infra.redisUrl())) {
            String session = sessions.create("acme");
            sessions.putFile(session, "data/seed.txt", "seeded");
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
            assertEquals("'seeded'", inSession(events, replies, session, "open('data/seed.txt').read()").get("value")
                    .asText(), "the session's file was written on the other worker's process too");
            assertEquals(rebuilt, inSession(events, replies, session, SessionsOnKafkaTest.USE).get("value").asText(),
                    "and pinned there from then on");
        }
    }

    /**
     * A worker killed hard mid-stream: the other runs the request again (attempt 2) and numbers its
     * output from 0 again; the Java client passes each line on once, in order, then the result.
     */
    @Test
    void aRequestWhoseWorkerIsKilledHardMidStreamCompletesOnTheOtherAndTheClientSeesEachLineOnce() throws Exception {
        try (FarmClient client = FarmClient.connect(ClientSettings.direct("it", infra.kafkaAdmin().clientSettings())
                .withSharedSessionless(false))) {
            FarmClientOnKafkaTest.Recorder recorder = new FarmClientOnKafkaTest.Recorder();
            client.submit(Job.of("python", "import time\nfor i in range(12):\n    print('line', i, flush=True)\n"
                    + "    time.sleep(0.3)\n'survived'").withTimeout(Duration.ofSeconds(90))).subscribe(recorder);
            await().atMost(Duration.ofSeconds(60)).until(() -> recorder.events.stream().anyMatch(Output.class::isInstance));
            String victim = recorder.events.stream().filter(Started.class::isInstance).map(e -> ((Started) e).workerId())
                    .findFirst().orElseThrow();
            workers.stream().filter(w -> w.id().equals(victim) && w.isAlive()).findFirst().orElseThrow().kill();

            List<ExecutionEvent> events = recorder.done.get(120, TimeUnit.SECONDS);
            Result result = (Result) events.get(events.size() - 1);
            assertEquals(Result.Status.OK, result.status(), events.toString());
            assertEquals("'survived'", result.value());
            assertNotEquals(victim, result.workerId(), "the other worker finished it");
            assertTrue(result.attempt() >= 2, "the result says it was a redelivery: " + result);
            assertEquals(IntStream.range(0, 12).mapToObj(i -> "line " + i + "\n").collect(Collectors.joining()),
                    events.stream().filter(Output.class::isInstance).map(e -> ((Output) e).text())
                            .collect(Collectors.joining()), "every line once, in order: " + events);
        }
    }

    /**
     * Requests without a session through the share group, under load, and a worker killed hard with
     * requests in flight: its locks lapse, the broker delivers those records to the other worker
     * (which waits out the dead worker's claims), and every request gets exactly one result.
     */
    @Test
    void sharedRequestsUnderLoadGetExactlyOneResultEachWhenAWorkerIsKilledHard() throws Exception {
        String replies = Topics.tenantTopics("it") + "replies-" + UUID.randomUUID();
        try (KafkaConsumer<String, String> events = kafka.consumer(replies)) {
            Set<String> ids = new HashSet<>();
            // Every tenth runs 3 s: one of those seen started is surely still running a moment later.
            Set<String> slow = new HashSet<>();
            for (int i = 0; i < 60; i++) {
                String id = UUID.randomUUID().toString();
                ids.add(id);
                if (i % 10 == 0) {
                    slow.add(id);
                }
                kafka.send(SHARED, id, request(id, "import time\ntime.sleep(" + (i % 10 == 0 ? 3 : 0.3) + ")\n" + i,
                        "\"replyTo\":\"" + replies + "\""));
            }
            Map<String, List<JsonNode>> results = new HashMap<>();
            Map<String, String> startedOn = new HashMap<>();
            Set<String> answeredBy = new HashSet<>();
            String running = null;
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            // Killed while it runs a slow request, once both workers answered some: that record is
            // then surely one the broker must deliver again.
            while (running == null && System.nanoTime() < deadline) {
                collectEvents(events.poll(Duration.ofMillis(100)), results, startedOn);
                results.values().forEach(r -> answeredBy.add(r.get(0).get("workerId").asText()));
                if (answeredBy.size() == 2) {
                    running = startedOn.keySet().stream().filter(id -> slow.contains(id) && !results.containsKey(id))
                            .findFirst().orElse(null);
                }
            }
            assertEquals(2, answeredBy.size(), "both workers took shared requests: " + answeredBy);
            assertNotNull(running, "a slow request was running when both workers had answered some");
            String victim = startedOn.get(running);
            workers.stream().filter(w -> w.id().equals(victim) && w.isAlive()).findFirst().orElseThrow().kill();

            deadline = System.nanoTime() + Duration.ofSeconds(180).toNanos();
            while (results.size() < ids.size() && System.nanoTime() < deadline) {
                collectResults(events.poll(Duration.ofMillis(200)), results);
            }
            kafka.awaitShareConsumed(SharedRequestConsumer.group("python"), Duration.ofSeconds(120));
            collectResults(PlainKafka.readToEnd(events, Duration.ofSeconds(60)), results);
            assertEquals(ids, results.keySet(), "every request got a result");
            for (Map.Entry<String, List<JsonNode>> entry : results.entrySet()) {
                assertEquals(1, entry.getValue().size(), "exactly one result for " + entry.getKey() + ": " + entry.getValue());
                assertEquals("ok", entry.getValue().get(0).get("status").asText(), entry.getValue().toString());
            }
            JsonNode rerun = results.get(running).get(0);
            assertTrue(rerun.get("attempt").asInt() >= 2 && !victim.equals(rerun.get("workerId").asText()),
                    "the request the killed worker was running was delivered again and answered by the other: " + rerun);
        }
    }

    /**
     * One count of processes for both delivery modes: a worker whose processes all run requests of
     * its partitions takes no shared request, and every one goes to the worker that has a process.
     */
    @Test
    void aWorkerWhoseProcessesAreAllBusyTakesNoSharedRequest() {
        String replies = Topics.tenantTopics("it") + "replies-" + UUID.randomUUID();
        String replyTo = "\"replyTo\":\"" + replies + "\"";
        try (KafkaConsumer<String, String> events = kafka.consumer(replies)) {
            int partition = kafka.partitionPerMember(GROUP, REQUESTS).get(0);
            Set<String> busy = new HashSet<>();
            for (int i = 0; i < POOL_SIZE; i++) {
                String id = UUID.randomUUID().toString();
                busy.add(id);
                kafka.send(REQUESTS, partition, id, request(id, "import time\ntime.sleep(15)\n'done'", replyTo));
            }
            Map<String, List<JsonNode>> results = new HashMap<>();
            Map<String, String> startedOn = new HashMap<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (!startedOn.keySet().containsAll(busy) && System.nanoTime() < deadline) {
                collectEvents(events.poll(Duration.ofMillis(100)), results, startedOn);
            }
            Set<String> busyWorkers = busy.stream().map(startedOn::get).collect(Collectors.toSet());
            assertEquals(1, busyWorkers.size(), "the partition's requests run side by side on its owner: " + startedOn);
            String full = busyWorkers.iterator().next();
            assertNotNull(full, "the partition's requests started: " + startedOn);

            Set<String> shared = new HashSet<>();
            for (int i = 0; i < 3 * POOL_SIZE; i++) {
                String id = UUID.randomUUID().toString();
                shared.add(id);
                kafka.send(SHARED, id, request(id, "'shared " + i + "'", replyTo));
            }
            deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
            while (!results.keySet().containsAll(shared) || !results.keySet().containsAll(busy)) {
                assertTrue(System.nanoTime() < deadline, "every request answered: " + results.keySet());
                collectEvents(events.poll(Duration.ofMillis(100)), results, startedOn);
            }
            for (String id : shared) {
                JsonNode result = results.get(id).get(0);
                assertEquals("ok", result.get("status").asText(), result.toString());
                assertNotEquals(full, result.get("workerId").asText(),
                        "taken by the worker whose processes were all busy: " + result);
            }
            busy.forEach(id -> assertEquals("ok", results.get(id).get(0).get("status").asText(), results.get(id).toString()));
        }
    }

    /**
     * Redis frozen for longer than a claim lasts while requests run, and meanwhile each running
     * request is delivered again to an idle consumer (its record sent again to a partition another
     * consumer owns) and the group rebalances. When Redis is back every claim has lapsed by its
     * clock; the deliveries running the requests take theirs back within the takeover grace, so
     * every request runs to its end once and is answered once.
     */
    @Test
    void aRebalanceDuringARedisStallRunsNoRequestTwice() {
        String replies = Topics.tenantTopics("it") + "replies-" + UUID.randomUUID();
        List<Integer> partitions = kafka.partitionPerMember(GROUP, REQUESTS);
        assertEquals(2, partitions.size(), "a partition of each worker's consumer: " + partitions);
        try (KafkaConsumer<String, String> events = kafka.consumer(replies)) {
            Map<String, String> running = new HashMap<>();
            for (int i = 0; i < partitions.size() / 2; i++) {
                String id = UUID.randomUUID().toString();
                String record = request(id, "import time\nprint('begin', flush=True)\ntime.sleep(3)\n"
                        + "print('end', flush=True)\n'done'", "\"replyTo\":\"" + replies + "\"");
                running.put(id, record);
                kafka.send(REQUESTS, partitions.get(i), id, record);
            }
            Map<String, List<JsonNode>> byRequest = new HashMap<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (started(byRequest) < running.size() && System.nanoTime() < deadline) {
                collectEvents(events.poll(Duration.ofMillis(100)), byRequest);
            }
            assertEquals(running.size(), started(byRequest), "the requests run: " + byRequest);

            infra.pause(TestInfra.Component.REDIS, Duration.ofSeconds(10));
            int idle = partitions.size() / 2;
            for (Map.Entry<String, String> request : running.entrySet()) {
                kafka.send(REQUESTS, partitions.get(idle++), request.getKey(), request.getValue());
            }
            kafka.joinAndLeave(GROUP, REQUESTS);

            deadline = System.nanoTime() + Duration.ofSeconds(180).toNanos();
            while (results(byRequest) < running.size() && System.nanoTime() < deadline) {
                collectEvents(events.poll(Duration.ofMillis(200)), byRequest);
            }
            kafka.awaitConsumed(GROUP, REQUESTS, Duration.ofSeconds(120));
            collectEvents(PlainKafka.readToEnd(events, Duration.ofSeconds(60)), byRequest);
            for (String id : running.keySet()) {
                List<JsonNode> got = byRequest.getOrDefault(id, List.of());
                List<JsonNode> answers = got.stream().filter(e -> "result".equals(e.get("type").asText())).toList();
                assertEquals(1, answers.size(), "one result for " + id + ": " + got);
                assertEquals("ok", answers.get(0).get("status").asText(), answers.toString());
                String stdout = got.stream().filter(e -> "output".equals(e.get("type").asText()))
                        .map(e -> e.get("text").asText()).collect(Collectors.joining());
                assertEquals(1, stdout.split("end\n", -1).length - 1, "ran to its end once: " + got);
            }
        }
    }

    private static long started(Map<String, List<JsonNode>> byRequest) {
        return byRequest.values().stream().filter(events -> events.stream()
                .anyMatch(e -> "started".equals(e.get("type").asText()))).count();
    }

    private static long results(Map<String, List<JsonNode>> byRequest) {
        return byRequest.values().stream().filter(events -> events.stream()
                .anyMatch(e -> "result".equals(e.get("type").asText()))).count();
    }

    private static void collectEvents(Iterable<ConsumerRecord<String, String>> records, Map<String, List<JsonNode>> byRequest) {
        for (ConsumerRecord<String, String> r : records) {
            byRequest.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(PlainKafka.read(r.value()));
        }
    }

    private JsonNode inSession(KafkaConsumer<String, String> events, String replies, String session, String code) {
        String id = UUID.randomUUID().toString();
        kafka.send(REQUESTS, session, request(id, code, "\"session\":\"" + session + "\",\"tenant\":\"acme\","
                + "\"replyTo\":\"" + replies + "\""));
        return PlainKafka.resultOf(events, id, Duration.ofSeconds(120));
    }

    private static void collectResults(Iterable<ConsumerRecord<String, String>> records, Map<String, List<JsonNode>> results) {
        collectEvents(records, results, new HashMap<>());
    }

    /** Results by request id, and the worker each request was first started on. */
    private static void collectEvents(Iterable<ConsumerRecord<String, String>> records, Map<String, List<JsonNode>> results,
            Map<String, String> startedOn) {
        for (ConsumerRecord<String, String> r : records) {
            JsonNode event = PlainKafka.read(r.value());
            switch (event.get("type").asText()) {
                case "result" -> results.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(event);
                case "started" -> startedOn.putIfAbsent(r.key(), event.get("workerId").asText());
                default -> { }
            }
        }
    }
}
