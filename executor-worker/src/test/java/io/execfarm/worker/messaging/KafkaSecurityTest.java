package io.execfarm.worker.messaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.execfarm.accounts.KafkaAccounts;
import io.execfarm.accounts.KafkaLogin;
import io.execfarm.accounts.KafkaTenants;
import io.execfarm.accounts.Passwords;
import io.execfarm.contracts.Topics;
import io.execfarm.localinfra.InjectTestInfra;
import io.execfarm.localinfra.TestInfra;
import io.execfarm.localinfra.TestInfraResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.ClusterAuthorizationException;
import org.apache.kafka.common.errors.GroupAuthorizationException;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/**
 * The broker every test runs on authenticates each client and grants each of the farm's services
 * only what it uses (KafkaAccounts): tried here as a process that reaches the broker would try it,
 * without a password, with a wrong one, and with a service's own login beyond its rights. Each is
 * refused with the error a Kafka client shows.
 */
@QuarkusTest
@QuarkusTestResource(TestInfraResource.AsWorker.class)
class KafkaSecurityTest {

    private static final String REQUESTS = Topics.requests("python");

    @InjectTestInfra
    TestInfra infra;

    @Test
    void aWrongPasswordIsRefusedAsInvalidCredentials() {
        KafkaLogin worker = infra.kafkaLogin(KafkaAccounts.Service.WORKER);
        KafkaLogin impostor = KafkaLogin.scram(worker.bootstrap(), worker.username(), worker.password() + "0");
        try (Admin admin = Admin.create(impostor.clientSettings())) {
            Throwable refused = cause(() -> admin.describeCluster().clusterId().get(30, TimeUnit.SECONDS));
            assertInstanceOf(SaslAuthenticationException.class, refused);
            assertTrue(refused.getMessage().contains("invalid credentials"), refused.getMessage());
        }
    }

    /** The broker speaks SASL only: a client without it never gets as far as the topics' metadata. */
    @Test
    void aClientWithoutCredentialsLearnsNothing() {
        Map<String, Object> settings = new HashMap<>(Map.of("bootstrap.servers", infra.kafkaBootstrap(),
                ConsumerConfig.GROUP_ID_CONFIG, "anonymous-" + UUID.randomUUID()));
        try (KafkaConsumer<String, String> anonymous = new KafkaConsumer<>(settings, new StringDeserializer(),
                new StringDeserializer())) {
            assertThrows(TimeoutException.class, () -> anonymous.partitionsFor(REQUESTS, Duration.ofSeconds(3)));
        }
    }

    @Test
    void theWorkersLoginCannotSubmitRequestsNorCancelThem() {
        KafkaLogin worker = infra.kafkaLogin(KafkaAccounts.Service.WORKER);
        for (String topic : List.of(REQUESTS, Topics.sharedRequests("python"), Topics.CONTROL)) {
            assertInstanceOf(TopicAuthorizationException.class, send(worker, topic), topic);
        }
    }

    @Test
    void theDispatchersLoginCannotTakeRequestsNorReadResultsNorWriteEvents() {
        KafkaLogin dispatcher = infra.kafkaLogin(KafkaAccounts.Service.DISPATCHER);
        assertInstanceOf(TopicAuthorizationException.class, send(dispatcher, Topics.REPLIES));
        Map<String, Object> settings = dispatcher.clientSettings();
        settings.put(ConsumerConfig.GROUP_ID_CONFIG, "execfarm-workers-python");
        try (KafkaConsumer<String, String> intruder = new KafkaConsumer<>(settings, new StringDeserializer(),
                new StringDeserializer())) {
            intruder.subscribe(List.of(REQUESTS));
            assertInstanceOf(GroupAuthorizationException.class, cause(() -> intruder.poll(Duration.ofSeconds(10))));
        }
        settings.remove(ConsumerConfig.GROUP_ID_CONFIG);
        String tenantsResults = Topics.tenantTopics("acme") + "replies-" + UUID.randomUUID();
        try (PlainKafka admin = new PlainKafka(infra.kafkaAdmin())) {
            admin.createTopic(tenantsResults, Map.of());
        }
        for (String topic : List.of(REQUESTS, tenantsResults)) {
            try (KafkaConsumer<String, String> reader = new KafkaConsumer<>(settings, new StringDeserializer(),
                    new StringDeserializer())) {
                reader.assign(List.of(new TopicPartition(topic, 0)));
                reader.seekToBeginning(reader.assignment());
                assertInstanceOf(TopicAuthorizationException.class, cause(() -> reader.poll(Duration.ofSeconds(10))), topic);
            }
        }
    }

    /** The scaler (KEDA) reads how far the workers' groups lag, and no record, and writes nothing. */
    @Test
    void theScalersLoginReadsTheWorkersLagAndNoRecord() throws Exception {
        KafkaLogin scaler = infra.kafkaLogin(KafkaAccounts.Service.SCALER);
        try (Admin admin = Admin.create(scaler.clientSettings())) {
            admin.listConsumerGroupOffsets("execfarm-workers-python").partitionsToOffsetAndMetadata()
                    .get(30, TimeUnit.SECONDS);
            admin.listOffsets(Map.of(new TopicPartition(REQUESTS, 0), OffsetSpec.latest())).all().get(30, TimeUnit.SECONDS);
        }
        // Refused as a producer at all: it may write nowhere, so not even idempotently.
        assertInstanceOf(AuthorizationException.class, send(scaler, REQUESTS));
        Map<String, Object> settings = scaler.clientSettings();
        try (KafkaConsumer<String, String> reader = new KafkaConsumer<>(settings, new StringDeserializer(),
                new StringDeserializer())) {
            reader.assign(List.of(new TopicPartition(REQUESTS, 0)));
            reader.seekToBeginning(reader.assignment());
            assertInstanceOf(TopicAuthorizationException.class, cause(() -> reader.poll(Duration.ofSeconds(10))));
        }
    }

    /**
     * A request whose reply topic the worker may not write (outside {@code execfarm.replies} and
     * tenants' topics) is dead-lettered with the broker's refusal, and the requests after it run.
     */
    @Test
    void aReplyTopicTheWorkerMayNotWriteIsDeadLetteredAndTheNextRequestRuns() {
        String id = UUID.randomUUID().toString();
        String after = UUID.randomUUID().toString();
        String replies = Topics.tenantTopics("test") + "replies-" + UUID.randomUUID();
        try (PlainKafka kafka = new PlainKafka(infra.kafkaAdmin());
                KafkaConsumer<String, String> deadLetters = kafka.consumer(Topics.DEAD_LETTERS);
                KafkaConsumer<String, String> events = kafka.consumer(replies)) {
            kafka.send(REQUESTS, id, PlainKafka.request(id, "1", "\"replyTo\":\"elsewhere.replies-" + id + "\""));
            String reason = PlainKafka.deadLetterReasons(deadLetters, Set.of(id), Duration.ofSeconds(60)).get(id);
            assertNotNull(reason, "the request is in the dead-letter topic");
            assertTrue(reason.contains("elsewhere.replies-" + id) && reason.contains("closed to the farm's workers"), reason);
            kafka.send(REQUESTS, after, PlainKafka.request(after, "6 * 7", "\"replyTo\":\"" + replies + "\""));
            List<JsonNode> got = PlainKafka.eventsUntilResult(events, after, Duration.ofSeconds(60));
            assertEquals("42", got.get(got.size() - 1).get("value").asText(), got.toString());
        }
    }

    /** Neither service can make itself a user or an ACL: only the admin can. */
    @Test
    void noServiceCanGrantItselfMore() throws Exception {
        for (KafkaAccounts.Service service : KafkaAccounts.Service.values()) {
            KafkaLogin login = infra.kafkaLogin(service);
            try (Admin admin = Admin.create(login.clientSettings())) {
                AclBinding everything = new AclBinding(new ResourcePattern(ResourceType.TOPIC, "*", PatternType.LITERAL),
                        new AccessControlEntry("User:" + login.username(), "*", AclOperation.ALL, AclPermissionType.ALLOW));
                assertInstanceOf(ClusterAuthorizationException.class,
                        cause(() -> admin.createAcls(List.of(everything)).all().get(30, TimeUnit.SECONDS)), service.name());
                UserScramCredentialUpsertion user = new UserScramCredentialUpsertion("intruder",
                        new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 4096), "intruder");
                assertInstanceOf(ClusterAuthorizationException.class,
                        cause(() -> admin.alterUserScramCredentials(List.of(user)).all().get(30, TimeUnit.SECONDS)),
                        service.name());
            }
        }
        try (Admin admin = Admin.create(infra.kafkaAdmin().clientSettings())) {
            assertFalse(admin.describeUserScramCredentials().all().get(30, TimeUnit.SECONDS).containsKey("intruder"),
                    "no user intruder was made");
        }
    }

    /**
     * A tenant writes its ingress topic and reads its own topics, in consumer groups of its own
     * prefix; every other topic and group, another tenant's included, refuses it.
     */
    @Test
    void aTenantReachesOnlyItsOwnTopics() throws Exception {
        String a = "a" + UUID.randomUUID().toString().substring(0, 8);
        String b = "b" + UUID.randomUUID().toString().substring(0, 8);
        KafkaLogin tenantA = KafkaTenants.add(infra.kafkaAdmin(), a, Passwords.generate(), KafkaTenants.Quota.DEFAULT, 1);
        KafkaTenants.add(infra.kafkaAdmin(), b, Passwords.generate(), KafkaTenants.Quota.DEFAULT, 1);
        try {
            assertEquals(null, send(tenantA, Topics.ingress(a)), "its own ingress takes its records");
            for (String topic : List.of(Topics.ingress(b), Topics.tenantReplies(a), Topics.tenantReplies(b), REQUESTS,
                    Topics.sharedRequests("python"), Topics.CONTROL, Topics.DEAD_LETTERS, Topics.REPLIES)) {
                assertInstanceOf(TopicAuthorizationException.class, send(tenantA, topic), topic);
            }
            try (PlainKafka admin = new PlainKafka(infra.kafkaAdmin())) {
                admin.send(Topics.tenantReplies(a), "mine", "{}");
                admin.send(Topics.tenantReplies(b), "theirs", "{}");
            }
            assertEquals(List.of("mine"), keys(tenantA, Topics.tenantTopics(a) + "reader", Topics.tenantReplies(a)));
            assertInstanceOf(TopicAuthorizationException.class,
                    cause(() -> keys(tenantA, Topics.tenantTopics(a) + "reader", Topics.tenantReplies(b))));
            assertInstanceOf(GroupAuthorizationException.class,
                    cause(() -> keys(tenantA, Topics.tenantTopics(b) + "reader", Topics.tenantReplies(a))));
            assertInstanceOf(GroupAuthorizationException.class,
                    cause(() -> keys(tenantA, "execfarm-workers-python", Topics.tenantReplies(a))), "the workers' group");
            Map<String, Object> share = tenantA.clientSettings();
            share.put(ConsumerConfig.GROUP_ID_CONFIG, "execfarm-shared-python");
            try (KafkaShareConsumer<String, String> intruder = new KafkaShareConsumer<>(share, new StringDeserializer(),
                    new StringDeserializer())) {
                intruder.subscribe(List.of(Topics.tenantReplies(a)));
                assertInstanceOf(GroupAuthorizationException.class, cause(() -> intruder.poll(Duration.ofSeconds(10))),
                        "the workers' share group");
            }
        } finally {
            KafkaTenants.remove(infra.kafkaAdmin(), a, Duration.ofSeconds(30));
            KafkaTenants.remove(infra.kafkaAdmin(), b, Duration.ofSeconds(30));
        }
    }

    /** A tenant producing past its quota is slowed down by the broker, and loses nothing. */
    @Test
    void aTenantOverItsProduceQuotaIsThrottledNotRefused() throws Exception {
        String name = "q" + UUID.randomUUID().toString().substring(0, 8);
        KafkaLogin tenant = KafkaTenants.add(infra.kafkaAdmin(), name, Passwords.generate(),
                new KafkaTenants.Quota(4096, 50), 1);
        try {
            Map<String, Object> settings = tenant.clientSettings();
            settings.put(ProducerConfig.LINGER_MS_CONFIG, 0);
            try (KafkaProducer<String, String> flood = new KafkaProducer<>(settings, new StringSerializer(),
                    new StringSerializer())) {
                // The broker averages a rate over its quota window (11 s), so 60 KiB in a burst is
                // about 6 KiB/s against the 4 KiB/s allowed: a few seconds of delay.
                String record = "x".repeat(5 * 1024);
                List<java.util.concurrent.Future<?>> sent = new java.util.ArrayList<>();
                for (int i = 0; i < 12; i++) {
                    sent.add(flood.send(new ProducerRecord<>(Topics.ingress(name), Integer.toString(i), record)));
                }
                for (java.util.concurrent.Future<?> each : sent) {
                    each.get(120, TimeUnit.SECONDS);
                }
                double throttled = (double) flood.metrics().entrySet().stream()
                        .filter(e -> e.getKey().name().equals("produce-throttle-time-max")).findFirst().orElseThrow()
                        .getValue().metricValue();
                assertTrue(throttled > 0, "the broker delayed the tenant's produce requests: " + throttled + " ms");
            }
        } finally {
            KafkaTenants.remove(infra.kafkaAdmin(), name, Duration.ofSeconds(30));
        }
    }

    /**
     * A removed tenant's login no longer works, and its topics are gone; a broker restarted after
     * it still knows every other user (Kafka 4.2 forgot every SCRAM user on restart once one had
     * been deleted, so a removal no longer deletes the credential).
     */
    @Test
    void aRemovedTenantCannotLogInAndEveryOtherUserStillCanAfterABrokerRestart() throws Exception {
        String name = "r" + UUID.randomUUID().toString().substring(0, 8);
        KafkaLogin tenant = KafkaTenants.add(infra.kafkaAdmin(), name, Passwords.generate(), KafkaTenants.Quota.DEFAULT, 1);
        assertTrue(KafkaTenants.list(infra.kafkaAdmin()).stream().anyMatch(t -> t.name().equals(name)
                && t.quota().equals(java.util.Optional.of(KafkaTenants.Quota.DEFAULT))));
        KafkaTenants.remove(infra.kafkaAdmin(), name, Duration.ofSeconds(30));
        try (Admin admin = Admin.create(tenant.clientSettings())) {
            assertInstanceOf(SaslAuthenticationException.class,
                    cause(() -> admin.describeCluster().clusterId().get(30, TimeUnit.SECONDS)));
        }
        try (Admin admin = Admin.create(infra.kafkaAdmin().clientSettings())) {
            assertFalse(admin.listTopics().names().get(30, TimeUnit.SECONDS).contains(Topics.ingress(name)));
        }
        assertFalse(KafkaTenants.list(infra.kafkaAdmin()).stream().anyMatch(t -> t.name().equals(name)));
        if (infra.owned()) {
            infra.restart(TestInfra.Component.KAFKA, Duration.ofSeconds(1), false);
            for (KafkaAccounts.Service service : KafkaAccounts.Service.values()) {
                try (Admin admin = Admin.create(infra.kafkaLogin(service).clientSettings())) {
                    assertNotNull(admin.describeCluster().clusterId().get(60, TimeUnit.SECONDS), service.name());
                }
            }
            try (Admin admin = Admin.create(tenant.clientSettings())) {
                assertInstanceOf(SaslAuthenticationException.class,
                        cause(() -> admin.describeCluster().clusterId().get(30, TimeUnit.SECONDS)));
            }
        }
    }

    /** The keys on {@code topic} from its beginning, read in consumer group {@code group}; throws what the broker refused. */
    private static List<String> keys(KafkaLogin login, String group, String topic) {
        Map<String, Object> settings = login.clientSettings();
        settings.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        settings.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(settings, new StringDeserializer(),
                new StringDeserializer())) {
            consumer.subscribe(List.of(topic));
            List<String> keys = new java.util.ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (keys.isEmpty() && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(r -> keys.add(r.key()));
            }
            return keys;
        }
    }

    /** What the broker answered a record sent to {@code topic}: null when it took it. */
    private static Throwable send(KafkaLogin login, String topic) {
        Map<String, Object> settings = login.clientSettings();
        settings.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 10_000);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(settings, new StringSerializer(),
                new StringSerializer())) {
            producer.send(new ProducerRecord<>(topic, "k", "{}")).get(30, TimeUnit.SECONDS);
            return null;
        } catch (ExecutionException e) {
            return refusal(e.getCause());
        } catch (Exception e) {
            return refusal(e);
        }
    }

    /**
     * The authorization failure behind {@code thrown}, where there is one: a producer refused its
     * producer id (idempotence) reports it as the cause or, depending on when the send met the
     * refusal, as a suppressed exception of a plain KafkaException (seen in CI).
     */
    private static Throwable refusal(Throwable thrown) {
        for (Throwable t = thrown; t != null; t = t.getCause()) {
            if (t instanceof AuthorizationException) {
                return t;
            }
            for (Throwable suppressed : t.getSuppressed()) {
                if (suppressed instanceof AuthorizationException) {
                    return suppressed;
                }
            }
        }
        return thrown;
    }

    /** What the call threw, unwrapped from the future's ExecutionException; fails when it threw nothing. */
    private static Throwable cause(ThrowingCall call) {
        Throwable thrown = assertThrows(Exception.class, call::run);
        return thrown instanceof ExecutionException ? thrown.getCause() : thrown;
    }

    @FunctionalInterface
    private interface ThrowingCall {
        void run() throws Exception;
    }
}
