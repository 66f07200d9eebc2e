package io.execfarm.worker.messaging;

import io.quarkus.runtime.ShutdownEvent;
import io.smallrye.common.annotation.Identifier;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.jboss.logging.Logger;

/**
 * The largest record each reply topic accepts ({@code max.message.bytes}), looked up once per topic.
 * An event over it is refused before it is sent: a record the broker refuses as too large, batched
 * with others of its partition, makes the producer split and resend the batch until its delivery
 * timeout (the split batch holds the same records), holding up that partition's other events.
 */
@ApplicationScoped
public class ReplyTopicLimits {

    private static final Logger LOG = Logger.getLogger(ReplyTopicLimits.class);

    private final Map<String, Object> kafka;
    /** How long a topic whose limit could not be read is not asked about again. */
    private static final long RETRY_NANOS = TimeUnit.SECONDS.toNanos(5);
    private static final int LOOKUP_TIMEOUT_MS = 5000;
    private static final long JUST_CREATED_PAUSE_MS = 200;

    private final ConcurrentMap<String, Integer> limits = new ConcurrentHashMap<>();
    /** Topics whose limit could not be read, with when to ask again: a broker away must not cost a lookup per event. */
    private final ConcurrentMap<String, Long> unknownUntil = new ConcurrentHashMap<>();
    private volatile Admin admin;

    /** @param kafka the application's {@code kafka.*} settings, as the connector reads them */
    public ReplyTopicLimits(@Identifier("default-kafka-broker") Map<String, Object> kafka) {
        this.kafka = kafka;
    }

    void stop(@Observes ShutdownEvent event) {
        if (admin != null) {
            admin.close();
        }
    }

    /** The topic's limit, or empty when it cannot be read now (a topic still to be created, a broker away). */
    public OptionalInt maxRecordBytes(String topic) {
        Integer known = limits.get(topic);
        if (known != null) {
            return OptionalInt.of(known);
        }
        Long askAgain = unknownUntil.get(topic);
        if (askAgain != null && System.nanoTime() - askAgain < 0) {
            return OptionalInt.empty();
        }
        try {
            OptionalInt limit = lookUp(topic);
            if (limit.isEmpty()) {
                // A topic created a moment ago may not have reached the broker that answers yet.
                Thread.sleep(JUST_CREATED_PAUSE_MS);
                limit = lookUp(topic);
            }
            if (limit.isEmpty()) {
                return unknown(topic);
            }
            limits.put(topic, limit.getAsInt());
            return limit;
        } catch (ExecutionException | java.util.concurrent.TimeoutException | RuntimeException e) {
            LOG.warnf("no record limit known for %s (events to it are not checked for size for a while): %s", topic,
                    e.toString());
            return unknown(topic);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return OptionalInt.empty();
        }
    }

    /** The topic's limit, or empty when the topic does not exist (yet). */
    private OptionalInt lookUp(String topic)
            throws ExecutionException, InterruptedException, java.util.concurrent.TimeoutException {
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        try {
            Config config = admin().describeConfigs(List.of(resource)).all().get(LOOKUP_TIMEOUT_MS, TimeUnit.MILLISECONDS)
                    .get(resource);
            ConfigEntry entry = config.get(TopicConfig.MAX_MESSAGE_BYTES_CONFIG);
            return entry == null || entry.value() == null ? OptionalInt.empty()
                    : OptionalInt.of(Integer.parseInt(entry.value()));
        } catch (ExecutionException e) {
            if (e.getCause() instanceof UnknownTopicOrPartitionException) {
                return OptionalInt.empty();
            }
            throw e;
        }
    }

    private OptionalInt unknown(String topic) {
        unknownUntil.put(topic, System.nanoTime() + RETRY_NANOS);
        return OptionalInt.empty();
    }

    private Admin admin() {
        Admin current = admin;
        if (current == null) {
            synchronized (this) {
                if (admin == null) {
                    Map<String, Object> settings = TopicSetup.adminSettings(kafka);
                    settings.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, LOOKUP_TIMEOUT_MS);
                    settings.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, LOOKUP_TIMEOUT_MS);
                    admin = Admin.create(settings);
                }
                current = admin;
            }
        }
        return current;
    }
}
