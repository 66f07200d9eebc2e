package io.execfarm.dispatcher.messaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.execfarm.accounts.KafkaLogin;
import io.execfarm.accounts.KafkaTenants;
import io.execfarm.accounts.Passwords;
import io.execfarm.client.ClientSettings;
import io.execfarm.client.FarmClient;
import io.execfarm.client.Job;
import io.execfarm.client.RejectedException;
import io.execfarm.contracts.RedisKeys;
import io.execfarm.contracts.Result;
import io.execfarm.contracts.Topics;
import io.execfarm.localinfra.AppProcess;
import io.execfarm.localinfra.InjectTestInfra;
import io.execfarm.localinfra.TestInfra;
import io.execfarm.localinfra.TestInfraResource;
import io.quarkus.redis.datasource.RedisDataSource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Tenants on Kafka, as plain clients logged in as themselves: each writes its ingress topic and
 * reads its own reply topic, and whatever a record says, it runs as the tenant whose topic it came
 * on; what would reach another tenant's work is refused. A real worker runs the requests.
 */
@QuarkusTest
@QuarkusTestResource(TestInfraResource.AsDispatcher.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class IngressForwarderTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration WAIT = Duration.ofSeconds(60);
    /** Its in-flight limit is 1 (application.properties, %test). */
    private static final String SMALL = "kafka-small";

    @InjectTestInfra
    TestInfra infra;

    @Inject
    RedisDataSource redis;

    private AppProcess worker;
    private final Map<String, KafkaLogin> tenants = new HashMap<>();

    @BeforeAll
    void startWorkerAndTenants() throws Exception {
        worker = AppProcess.worker("ingress-test-worker", infra, List.of(
                "execfarm.worker.runtime.python.pool.size=2", "execfarm.worker.runtime.python.pool.min-idle=2"));
        for (String tenant : List.of("kafka-a", "kafka-b", SMALL)) {
            tenants.put(tenant, KafkaTenants.add(infra.kafkaAdmin(), tenant, Passwords.generate(),
                    KafkaTenants.Quota.DEFAULT, 2));
        }
    }

    @AfterAll
    void stopWorker() throws Exception {
        if (worker != null) {
            worker.close();
        }
    }

    @Test
    void aTenantsRequestRunsAsThatTenantWhateverItsRecordSays() throws Exception {
        String id = UUID.randomUUID().toString();
        try (KafkaConsumer<String, String> forwarded = adminReader(List.of(Topics.requests("python"),
                Topics.sharedRequests("python")))) {
            send("kafka-a", request(id, "6 * 7", "kafka-b", Topics.tenantReplies("kafka-a")));
            JsonNode result = result("kafka-a", Topics.tenantReplies("kafka-a"), id);
            assertEquals("ok", result.get("status").asText(), result.toString());
            assertEquals("42", result.get("value").asText());
            JsonNode request = recordOf(forwarded, id);
            assertEquals("kafka-a", request.get("tenant").asText(), "the tenant comes from the ingress topic: " + request);
        }
    }

    /** The forwarder passes a request's files and globs on: the code reads the file, the result carries what it wrote. */
    @Test
    void aTenantsFilesGoThroughTheForwarderAndItsCollectedFileComesBack() throws Exception {
        String id = UUID.randomUUID().toString();
        ObjectNode request = (ObjectNode) JSON.readTree(request(id, "open('out.txt', 'w').write(open('in.txt').read()[::-1])",
                null, Topics.tenantReplies("kafka-a")));
        request.putArray("files").addObject().put("path", "in.txt").put("text", "olleh");
        request.putArray("collect").add("out.txt");
        send("kafka-a", request.toString());
        JsonNode result = result("kafka-a", Topics.tenantReplies("kafka-a"), id);
        assertEquals("ok", result.get("status").asText(), result.toString());
        assertEquals("aGVsbG8=", result.at("/files/0/base64").asText(), result.toString());
    }

    @Test
    void aReplyTopicThatIsNotTheTenantsIsRefusedOnTheTenantsOwn() throws Exception {
        String id = UUID.randomUUID().toString();
        for (String replyTo : List.of(Topics.tenantReplies("kafka-b"), Topics.REPLIES)) {
            send("kafka-a", request(id, "print('must not run')", null, replyTo));
            JsonNode refused = result("kafka-a", Topics.tenantReplies("kafka-a"), id);
            assertEquals("rejected", refused.get("status").asText(), refused.toString());
            assertEquals("ReplyToNotYours", refused.at("/error/type").asText(), refused.toString());
        }
        try (KafkaConsumer<String, String> theirs = adminReader(List.of(Topics.tenantReplies("kafka-b")))) {
            assertTrue(keysToEnd(theirs).stream().noneMatch(id::equals), "nothing of it reached kafka-b's topic");
        }
    }

    @Test
    void aTenantCannotCancelAnotherTenantsExecutionButCancelsItsOwn() throws Exception {
        String theirs = UUID.randomUUID().toString();
        String mine = UUID.randomUUID().toString();
        send("kafka-b", request(theirs, "import time\ntime.sleep(3)\n'finished'", null, Topics.tenantReplies("kafka-b")));
        send("kafka-a", request(mine, "import time\ntime.sleep(30)\n'never'", null, Topics.tenantReplies("kafka-a")));
        Thread.sleep(1000);
        send("kafka-a", cancel(theirs));
        send("kafka-a", cancel(mine));
        JsonNode finished = result("kafka-b", Topics.tenantReplies("kafka-b"), theirs);
        assertEquals("ok", finished.get("status").asText(), "another tenant's cancel changed nothing: " + finished);
        JsonNode cancelled = result("kafka-a", Topics.tenantReplies("kafka-a"), mine);
        assertEquals("cancelled", cancelled.get("status").asText(), cancelled.toString());
    }

    @Test
    void anIdAnotherTenantsExecutionHoldsIsRefused() throws Exception {
        String id = UUID.randomUUID().toString();
        send("kafka-b", request(id, "'theirs'", null, Topics.tenantReplies("kafka-b")));
        assertEquals("'theirs'", result("kafka-b", Topics.tenantReplies("kafka-b"), id).get("value").asText());
        send("kafka-a", request(id, "'mine'", null, Topics.tenantReplies("kafka-a")));
        JsonNode refused = result("kafka-a", Topics.tenantReplies("kafka-a"), id);
        assertEquals("IdInUse", refused.at("/error/type").asText(), refused.toString());
    }

    /**
     * Over its in-flight limit a tenant's request is refused, to be sent again; a finished
     * execution stops counting before its worker publishes the result (long before it would
     * expire), so a request sent the moment the tenant sees it is admitted.
     */
    @Test
    void overItsInFlightLimitATenantIsToldToSendAgain() throws Exception {
        String first = UUID.randomUUID().toString();
        String second = UUID.randomUUID().toString();
        String third = UUID.randomUUID().toString();
        String replies = Topics.tenantReplies(SMALL);
        send(SMALL, request(first, "import time\ntime.sleep(3)\n1", null, replies));
        event(SMALL, replies, first, "started");
        send(SMALL, request(second, "2", null, replies));
        assertEquals("TooManyInFlight", result(SMALL, replies, second).at("/error/type").asText());
        JsonNode finished = result(SMALL, replies, first);
        assertEquals("ok", finished.get("status").asText(), finished.toString());
        assertTrue(redis.sortedSet(String.class).zscore(RedisKeys.inFlight(SMALL), first).isEmpty(),
                "a result the tenant can see counts no longer");
        send(SMALL, request(third, "3", null, replies));
        JsonNode answered = result(SMALL, replies, third);
        assertEquals("3", answered.path("value").asText(), answered.toString());
    }

    /**
     * Removal: what a tenant being removed left in its ingress topic is dropped, not run, and its
     * topics go only once the forwarder is past it (deleting them under the forwarder held up every
     * tenant's forwarding for a minute); the other tenants' requests run on.
     */
    @Test
    void whatARemovedTenantLeftIsDroppedAndItsTopicsGoOnceTheForwarderIsPastIt() throws Exception {
        String gone = "kafka-gone";
        tenants.put(gone, KafkaTenants.add(infra.kafkaAdmin(), gone, Passwords.generate(), KafkaTenants.Quota.DEFAULT, 2));
        redis.set(String.class).sadd(RedisKeys.REMOVED_TENANTS, gone);
        List<String> left = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            left.add(UUID.randomUUID().toString());
            send(gone, request(left.get(i), "print('must not run')", null, Topics.tenantReplies(gone)));
        }
        assertTrue(KafkaTenants.remove(infra.kafkaAdmin(), gone, WAIT), "the forwarder got past its records");
        redis.set(String.class).srem(RedisKeys.REMOVED_TENANTS, gone);
        try (KafkaConsumer<String, String> forwarded = adminReader(List.of(Topics.requests("python"),
                Topics.sharedRequests("python")))) {
            List<String> ids = valuesToEnd(forwarded).stream().map(value -> value.path("id").asText()).toList();
            assertTrue(left.stream().noneMatch(ids::contains), "none of the removed tenant's requests was forwarded");
        }
        String id = UUID.randomUUID().toString();
        send("kafka-a", request(id, "'still here'", null, Topics.tenantReplies("kafka-a")));
        assertEquals("'still here'", result("kafka-a", Topics.tenantReplies("kafka-a"), id).get("value").asText());
    }

    /**
     * A session opened over Kafka with the Java client keeps its state until closed; another tenant
     * can neither take its id, nor close it, nor run in it; a command the contract refuses is answered.
     */
    @Test
    void aSessionOpenedOverKafkaKeepsItsStateUntilClosedAndIsItsTenantsAlone() throws Exception {
        try (FarmClient a = FarmClient.connect(ClientSettings.tenant("kafka-a",
                        tenants.get("kafka-a").clientSettings()));
                FarmClient b = FarmClient.connect(ClientSettings.tenant("kafka-b",
                        tenants.get("kafka-b").clientSettings()))) {
            String session = a.openSession("python");
            assertEquals(Result.Status.OK, a.run(Job.of("python", "x = 41").inSession(session)).status());
            assertEquals("42", a.run(Job.of("python", "x + 1").inSession(session)).result().value());

            RejectedException closedByB = assertThrows(RejectedException.class, () -> b.closeSession(session));
            assertEquals("SessionNotFound", closedByB.result().error().type());
            String taking = UUID.randomUUID().toString();
            send("kafka-b", "{\"v\":1,\"type\":\"openSession\",\"id\":\"" + taking + "\",\"session\":\"" + session
                    + "\",\"runtime\":\"python\",\"replyTo\":\"" + Topics.tenantReplies("kafka-b") + "\"}");
            assertEquals("SessionIdInUse", result("kafka-b", Topics.tenantReplies("kafka-b"), taking)
                    .at("/error/type").asText());
            assertEquals("SessionNotFound", b.run(Job.of("python", "x").inSession(session)).result().error().type(),
                    "another tenant's request in the session");
            assertEquals("42", a.run(Job.of("python", "x + 1").inSession(session)).result().value(), "untouched");

            a.closeSession(session);
            assertEquals("SessionNotFound", a.run(Job.of("python", "x").inSession(session)).result().error().type());
            String noRuntime = UUID.randomUUID().toString();
            send("kafka-a", "{\"v\":1,\"type\":\"openSession\",\"id\":\"" + noRuntime + "\",\"session\":\"s-"
                    + noRuntime + "\",\"replyTo\":\"" + Topics.tenantReplies("kafka-a") + "\"}");
            assertEquals("MalformedRequest", result("kafka-a", Topics.tenantReplies("kafka-a"), noRuntime)
                    .at("/error/type").asText());
        }
    }

    private static String request(String id, String code, String tenant, String replyTo) {
        ObjectNode request = JSON.createObjectNode().put("v", 1).put("id", id).put("runtime", "python").put("code", code)
                .put("replyTo", replyTo);
        if (tenant != null) {
            request.put("tenant", tenant);
        }
        return request.toString();
    }

    private static String cancel(String id) {
        return JSON.createObjectNode().put("v", 1).put("type", "cancel").put("requestId", id).toString();
    }

    private void send(String tenant, String json) throws Exception {
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(tenants.get(tenant).clientSettings(),
                new StringSerializer(), new StringSerializer())) {
            producer.send(new ProducerRecord<>(Topics.ingress(tenant), json)).get(30, TimeUnit.SECONDS);
        }
    }

    private JsonNode result(String tenant, String topic, String id) throws Exception {
        return event(tenant, topic, id, "result");
    }

    /**
     * The first event of {@code type} of {@code id} on {@code topic}, read as the tenant, in a
     * consumer group of its own prefix.
     */
    private JsonNode event(String tenant, String topic, String id, String type) throws Exception {
        Map<String, Object> settings = tenants.get(tenant).clientSettings();
        settings.put(ConsumerConfig.GROUP_ID_CONFIG, Topics.tenantTopics(tenant) + "test-" + UUID.randomUUID());
        settings.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(settings, new StringDeserializer(),
                new StringDeserializer())) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(200))) {
                    JsonNode event = JSON.readTree(record.value());
                    if (id.equals(record.key()) && type.equals(event.path("type").asText())) {
                        return event;
                    }
                }
            }
        }
        throw new AssertionError("no " + type + " event of " + id + " on " + topic + " within " + WAIT);
    }

    private KafkaConsumer<String, String> adminReader(List<String> topics) {
        Map<String, Object> settings = infra.kafkaAdmin().clientSettings();
        settings.put(ConsumerConfig.GROUP_ID_CONFIG, "test-" + UUID.randomUUID());
        settings.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        KafkaConsumer<String, String> consumer = new KafkaConsumer<>(settings, new StringDeserializer(),
                new StringDeserializer());
        consumer.subscribe(topics);
        return consumer;
    }

    private static JsonNode recordOf(KafkaConsumer<String, String> consumer, String id) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(200))) {
                JsonNode value = JSON.readTree(record.value());
                if (id.equals(value.path("id").asText())) {
                    return value;
                }
            }
        }
        throw new AssertionError("no record of " + id + " within " + WAIT);
    }

    /** The keys of everything on the consumer's topics now. */
    private static List<String> keysToEnd(KafkaConsumer<String, String> consumer) {
        return recordsToEnd(consumer).stream().map(ConsumerRecord::key).toList();
    }

    /** The values of everything on the consumer's topics now, as JSON. */
    private static List<JsonNode> valuesToEnd(KafkaConsumer<String, String> consumer) throws IOException {
        List<JsonNode> values = new ArrayList<>();
        for (ConsumerRecord<String, String> record : recordsToEnd(consumer)) {
            values.add(JSON.readTree(record.value()));
        }
        return values;
    }

    private static List<ConsumerRecord<String, String>> recordsToEnd(KafkaConsumer<String, String> consumer) {
        List<ConsumerRecord<String, String>> records = new ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (System.nanoTime() < deadline) {
            consumer.poll(Duration.ofMillis(200)).forEach(records::add);
            if (!consumer.assignment().isEmpty() && consumer.assignment().stream()
                    .allMatch(p -> consumer.position(p) >= consumer.endOffsets(List.of(p)).get(p))) {
                break;
            }
        }
        return records;
    }
}
