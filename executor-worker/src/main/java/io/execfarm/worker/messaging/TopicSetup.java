package io.execfarm.worker.messaging;

import io.execfarm.contracts.Topics;
import io.execfarm.worker.config.WorkerConfig;
import io.execfarm.worker.runtime.KnownRuntimes;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.common.annotation.Identifier;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.interceptor.Interceptor;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.jboss.logging.Logger;

/**
 * Creates the farm's topics when absent, before any consumer subscribes (messaging starts at a
 * later priority): a broker's auto-creation would make them with one partition, which would cap the
 * useful consumers per runtime at one. Each is replicated as configured, by default on three brokers
 * (or all, when fewer), with writes acknowledged once all but one copy hold them. Configures the
 * share groups of the shared request topics.
 */
@ApplicationScoped
public class TopicSetup {

    private static final Logger LOG = Logger.getLogger(TopicSetup.class);
    /** A request may carry the maximum of code, escaped, plus its envelope. */
    private static final String REQUEST_MAX_MESSAGE_BYTES = Integer.toString(8 * 1024 * 1024);

    private final WorkerConfig config;
    private final Map<String, Object> kafka;

    /** @param kafka the application's {@code kafka.*} settings, as the connector reads them (TLS, SASL...) */
    public TopicSetup(WorkerConfig config, @Identifier("default-kafka-broker") Map<String, Object> kafka) {
        this.config = config;
        this.kafka = kafka;
    }

    void create(@Observes @Priority(Interceptor.Priority.PLATFORM_BEFORE) StartupEvent event)
            throws InterruptedException, ExecutionException, TimeoutException {
        int partitions = config.topics().partitions();
        WorkerConfig.SharedRequests shared = config.sharedRequests();
        try (Admin admin = Admin.create(adminSettings(kafka))) {
            int brokers = admin.describeCluster().nodes().get(60, TimeUnit.SECONDS).size();
            Replication replication = Replication.of(config.topics(), brokers);
            List<NewTopic> topics = new ArrayList<>();
            for (String runtime : KnownRuntimes.NAMES) {
                topics.add(replication.topic(Topics.requests(runtime), partitions, REQUEST_MAX_MESSAGE_BYTES));
                if (shared.enabled()) {
                    topics.add(replication.topic(Topics.sharedRequests(runtime), shared.partitions(), REQUEST_MAX_MESSAGE_BYTES));
                }
            }
            topics.add(replication.topic(Topics.REPLIES, partitions, null));
            topics.add(replication.topic(Topics.CONTROL, 1, null));
            topics.add(replication.topic(Topics.DEAD_LETTERS, partitions, REQUEST_MAX_MESSAGE_BYTES));
            createMissing(admin, topics);
            if (shared.enabled()) {
                configureShareGroups(admin, shared);
            }
        }
    }

    private static void createMissing(Admin admin, List<NewTopic> topics)
            throws InterruptedException, ExecutionException, TimeoutException {
        Set<String> existing = admin.listTopics().names().get(60, TimeUnit.SECONDS);
        List<NewTopic> missing = topics.stream().filter(t -> !existing.contains(t.name())).toList();
        if (missing.isEmpty()) {
            return;
        }
        try {
            admin.createTopics(missing).all().get(60, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw e;
            }
        }
        LOG.infof("created topics %s", missing.stream().map(NewTopic::name).toList());
    }

    /**
     * Sets each share group's configuration before any consumer joins it: a share group starts at
     * the end of its topics by default, which would skip requests sent before the first worker
     * started; and its lock duration is the worker's.
     */
    private static void configureShareGroups(Admin admin, WorkerConfig.SharedRequests shared)
            throws InterruptedException, TimeoutException {
        Map<ConfigResource, Collection<AlterConfigOp>> configs = new HashMap<>();
        for (String runtime : KnownRuntimes.NAMES) {
            configs.put(new ConfigResource(ConfigResource.Type.GROUP, SharedRequestConsumer.group(runtime)), List.of(
                    set("share.auto.offset.reset", "earliest"),
                    set("share.record.lock.duration.ms", Long.toString(shared.lockDuration().toMillis()))));
        }
        try {
            admin.incrementalAlterConfigs(configs).all().get(60, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new IllegalStateException("could not configure the share groups of the shared request topics: "
                    + e.getCause().getMessage() + " -- the broker must run Kafka 4.2 or later with share groups "
                    + "(share.version=1, its default), or set execfarm.worker.shared-requests.enabled=false", e.getCause());
        }
    }

    private static AlterConfigOp set(String name, String value) {
        return new AlterConfigOp(new ConfigEntry(name, value), AlterConfigOp.OpType.SET);
    }

    /** How the farm's topics are replicated on a cluster of {@code brokers}. */
    record Replication(short factor, int minInsync) {

        static Replication of(WorkerConfig.Topics topics, int brokers) {
            short factor = topics.replicationFactor().orElse((short) Math.max(1, Math.min(3, brokers)));
            return new Replication(factor, topics.minInsyncReplicas().orElse(Math.max(1, factor - 1)));
        }

        NewTopic topic(String name, int partitions, String maxMessageBytes) {
            Map<String, String> configs = new HashMap<>(Map.of(TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG,
                    Integer.toString(minInsync)));
            if (maxMessageBytes != null) {
                configs.put(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, maxMessageBytes);
            }
            return new NewTopic(name, partitions, factor).configs(configs);
        }
    }

    /** The settings an admin client takes from the application's Kafka settings; consumer and producer ones are left out. */
    static Map<String, Object> adminSettings(Map<String, Object> kafka) {
        Map<String, Object> admin = new HashMap<>(kafka);
        admin.keySet().retainAll(AdminClientConfig.configNames());
        return admin;
    }
}
