package io.execfarm.client;

import io.execfarm.contracts.Topics;
import io.execfarm.contracts.WireNames;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.Executor;
import java.util.function.Consumer;

/**
 * How a {@link FarmClient} reaches the farm. Kafka's own settings are ordinary {@code kafka-clients}
 * properties (address, SASL login, TLS), used for the client's producer, its reply consumer and
 * its admin calls; the rest says where requests go and how long to wait. Immutable; each
 * {@code with} method returns new settings.
 *
 * @param kafka            {@code kafka-clients} properties: {@code bootstrap.servers} and the login
 * @param tenant           the tenant the requests run as
 * @param route            where requests and cancels are sent
 * @param replyTopic       the topic the client reads its events on, made when it starts if absent
 * @param sharedSessionless on {@link Route#DIRECT}, requests without a session go to the runtime's
 *                         shared topic (any worker takes any; the dispatcher's default) rather than its
 *                         partitioned one
 * @param queueTimeout     how long a request may wait for a worker before it is answered
 *                         {@code expired}: the {@code startBy} the client sets on {@link Route#DIRECT}
 *                         (the forwarder sets the same 30 s on {@link Route#INGRESS})
 * @param answerGrace      how long past its queue timeout and its run timeout the client waits for a
 *                         result before it gives the execution up as {@link ExecutionTimeoutException}
 * @param maxBufferedEvents events received and not yet taken by a subscriber, all executions
 *                         together, past which the reply consumer stops fetching until half are taken
 * @param delivery         where subscribers' {@code onNext} runs; null: one thread of the client's own
 * @param duplicates       told of each result that arrives again for an execution already answered,
 *                         as a distinct record (the farm answers each request once, so this is a fault)
 */
public record ClientSettings(Map<String, Object> kafka, String tenant, Route route, String replyTopic,
        boolean sharedSessionless, Duration queueTimeout, Duration answerGrace,
        int maxBufferedEvents, Executor delivery, Consumer<DuplicateResult> duplicates) {

    /** Where requests and cancels go. */
    public enum Route {
        /**
         * The tenant's ingress topic {@code execfarm.ingress.<tenant>}, forwarded by the dispatcher
         * after its checks: how a Kafka tenant (SCRAM user {@code tenant-<name>}) sends.
         */
        INGRESS,
        /**
         * The runtime topics themselves, cancels to {@code execfarm.control}: for the farm's own
         * tools and trusted producers whose login may write there (the broker's admin).
         */
        DIRECT
    }

    private static final Duration DEFAULT_QUEUE_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration DEFAULT_ANSWER_GRACE = Duration.ofSeconds(30);
    private static final int DEFAULT_MAX_BUFFERED_EVENTS = 10_000;

    public ClientSettings {
        kafka = Map.copyOf(kafka);
        if (!kafka.containsKey("bootstrap.servers")) {
            throw new IllegalArgumentException("the Kafka settings name no bootstrap.servers");
        }
        if (tenant == null || !WireNames.TENANT.matcher(tenant).matches()) {
            throw new IllegalArgumentException("not a tenant name: " + tenant);
        }
        Objects.requireNonNull(route, "route");
        if (replyTopic == null || !WireNames.TOPIC.matcher(replyTopic).matches() || Topics.isFarmOwned(replyTopic)) {
            throw new IllegalArgumentException("not a topic the farm answers on: " + replyTopic);
        }
        if (maxBufferedEvents < 1) {
            throw new IllegalArgumentException("maxBufferedEvents must be positive: " + maxBufferedEvents);
        }
        Objects.requireNonNull(queueTimeout, "queueTimeout");
        Objects.requireNonNull(answerGrace, "answerGrace");
        Objects.requireNonNull(duplicates, "duplicates");
    }

    /** The settings without the Kafka login's secrets: settings end up in logs and exception messages. */
    @Override
    public String toString() {
        Map<String, Object> shown = new java.util.TreeMap<>(kafka);
        shown.replaceAll((name, value) -> name.contains("jaas") || name.contains("password") ? "(hidden)" : value);
        return "ClientSettings[kafka=" + shown + ", tenant=" + tenant + ", route=" + route + ", replyTopic="
                + replyTopic + ", sharedSessionless=" + sharedSessionless + ", queueTimeout=" + queueTimeout + ", answerGrace="
                + answerGrace + ", maxBufferedEvents=" + maxBufferedEvents + "]";
    }

    /**
     * A Kafka tenant's settings, as {@code ./farm tenant add} prints them: requests through its ingress
     * topic, events on its reply topic {@code execfarm.tenant.<tenant>.replies}.
     */
    public static ClientSettings tenant(String tenant, Map<String, ?> kafka) {
        return new ClientSettings(Map.copyOf(kafka), tenant, Route.INGRESS, Topics.tenantReplies(tenant), true,
                DEFAULT_QUEUE_TIMEOUT, DEFAULT_ANSWER_GRACE, DEFAULT_MAX_BUFFERED_EVENTS, null, duplicate -> { });
    }

    /**
     * A Kafka tenant's settings from the variables {@code ./farm tenant add} (and compose's
     * {@code kafka-setup tenant add}) print: {@code EXECFARM_TENANT}, {@code KAFKA_BOOTSTRAP},
     * {@code KAFKA_SECURITY_PROTOCOL}, {@code KAFKA_SASL_MECHANISM}, {@code KAFKA_USERNAME},
     * {@code KAFKA_PASSWORD}.
     */
    public static ClientSettings fromEnvironment(Map<String, String> env) {
        String tenant = required(env, "EXECFARM_TENANT");
        Map<String, Object> kafka = new HashMap<>();
        kafka.put("bootstrap.servers", required(env, "KAFKA_BOOTSTRAP"));
        String protocol = env.getOrDefault("KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT");
        kafka.put("security.protocol", protocol);
        if (protocol.startsWith("SASL")) {
            String mechanism = env.getOrDefault("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512");
            String module = mechanism.equals("PLAIN") ? "org.apache.kafka.common.security.plain.PlainLoginModule"
                    : "org.apache.kafka.common.security.scram.ScramLoginModule";
            kafka.put("sasl.mechanism", mechanism);
            kafka.put("sasl.jaas.config", module + " required username=\"" + required(env, "KAFKA_USERNAME")
                    + "\" password=\"" + required(env, "KAFKA_PASSWORD") + "\";");
        }
        return tenant(tenant, kafka);
    }

    private static String required(Map<String, String> env, String name) {
        String value = env.get(name);
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException(name + " is not set");
        }
        return value;
    }

    /**
     * A trusted producer's settings: requests straight to the runtime topics as {@code tenant}, events
     * on a reply topic of this client's own under {@code execfarm.tenant.<tenant>.}, made when it starts.
     */
    public static ClientSettings direct(String tenant, Map<String, ?> kafka) {
        return new ClientSettings(Map.copyOf(kafka), tenant, Route.DIRECT,
                Topics.tenantTopics(tenant) + "replies-" + UUID.randomUUID(), true, DEFAULT_QUEUE_TIMEOUT,
                DEFAULT_ANSWER_GRACE, DEFAULT_MAX_BUFFERED_EVENTS, null, duplicate -> { });
    }

    /** Events read from this topic rather than the default (under the tenant's prefix, so the farm may write there). */
    public ClientSettings withReplyTopic(String topic) {
        return new ClientSettings(kafka, tenant, route, topic, sharedSessionless, queueTimeout, answerGrace,
                maxBufferedEvents, delivery, duplicates);
    }

    public ClientSettings withSharedSessionless(boolean shared) {
        return new ClientSettings(kafka, tenant, route, replyTopic, shared, queueTimeout, answerGrace,
                maxBufferedEvents, delivery, duplicates);
    }

    public ClientSettings withQueueTimeout(Duration timeout) {
        return new ClientSettings(kafka, tenant, route, replyTopic, sharedSessionless, timeout,
                answerGrace, maxBufferedEvents, delivery, duplicates);
    }

    public ClientSettings withAnswerGrace(Duration grace) {
        return new ClientSettings(kafka, tenant, route, replyTopic, sharedSessionless, queueTimeout,
                grace, maxBufferedEvents, delivery, duplicates);
    }

    public ClientSettings withMaxBufferedEvents(int max) {
        return new ClientSettings(kafka, tenant, route, replyTopic, sharedSessionless, queueTimeout,
                answerGrace, max, delivery, duplicates);
    }

    public ClientSettings withDelivery(Executor executor) {
        return new ClientSettings(kafka, tenant, route, replyTopic, sharedSessionless, queueTimeout,
                answerGrace, maxBufferedEvents, executor, duplicates);
    }

    public ClientSettings onDuplicateResult(Consumer<DuplicateResult> listener) {
        return new ClientSettings(kafka, tenant, route, replyTopic, sharedSessionless, queueTimeout,
                answerGrace, maxBufferedEvents, delivery, listener);
    }
}
