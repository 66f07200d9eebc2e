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
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
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
    void theDispatchersLoginCannotTakeRequestsNorWriteEvents() {
        KafkaLogin dispatcher = infra.kafkaLogin(KafkaAccounts.Service.DISPATCHER);
        assertInstanceOf(TopicAuthorizationException.class, send(dispatcher, Topics.REPLIES));
        assertInstanceOf(TopicAuthorizationException.class, send(dispatcher, Topics.tenantTopics("acme") + "replies"));
        Map<String, Object> settings = dispatcher.clientSettings();
        settings.put(ConsumerConfig.GROUP_ID_CONFIG, "execfarm-workers-python");
        try (KafkaConsumer<String, String> intruder = new KafkaConsumer<>(settings, new StringDeserializer(),
                new StringDeserializer())) {
            intruder.subscribe(List.of(REQUESTS));
            assertInstanceOf(GroupAuthorizationException.class, cause(() -> intruder.poll(Duration.ofSeconds(10))));
        }
        settings.remove(ConsumerConfig.GROUP_ID_CONFIG);
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

    private static Throwable send(KafkaLogin login, String topic) {
        Map<String, Object> settings = login.clientSettings();
        settings.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 10_000);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(settings, new StringSerializer(),
                new StringSerializer())) {
            return cause(() -> producer.send(new ProducerRecord<>(topic, "k", "{}")).get(30, TimeUnit.SECONDS));
        }
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
