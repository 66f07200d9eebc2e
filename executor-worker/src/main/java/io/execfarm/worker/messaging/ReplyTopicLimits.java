package io.execfarm.worker.messaging;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.quarkus.runtime.ShutdownEvent;
import io.smallrye.common.annotation.Identifier;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.jboss.logging.Logger;

/**
 * The largest record each reply topic accepts ({@code max.message.bytes}). An event over it is
 * refused before it is sent: a record the broker refuses as too large, batched with others of its
 * partition, makes the producer split and resend the batch until its delivery timeout (the split
 * batch holds the same records), holding up that partition's other events.
 *
 * <p>A topic's limit is looked up ({@link #lookUp}, blocking, up to twice {@value #LOOKUP_TIMEOUT_MS}
 * ms) by the request before it runs, on the request's own thread; the events read it from the
 * cache ({@link #known}) and never wait for the broker, since output is published from the batcher's
 * timer, which every running request shares. The cache is bounded (Caffeine): a worker answering to
 * a topic per client keeps the most recent {@value #MAX_TOPICS}, each for ten minutes (a topic's
 * limit may be changed), and a topic that could not be read is not asked about again for 5 s.
 *
 * <p>A topic the broker will not describe to this worker is closed to it ({@link #closedBecause}):
 * the worker may describe every topic it may write events to (its ACLs grant DESCRIBE_CONFIGS beside
 * WRITE), and a request whose reply topic is closed is refused before it runs, instead of running
 * for events the producer would retry until its delivery timeout and never deliver.
 */
@ApplicationScoped
public class ReplyTopicLimits {

    private static final Logger LOG = Logger.getLogger(ReplyTopicLimits.class);

    private static final int MAX_TOPICS = 10_000;
    private static final int LOOKUP_TIMEOUT_MS = 5000;
    private static final long JUST_CREATED_PAUSE_MS = 200;

    private final Map<String, Object> kafka;
    private final Cache<String, Integer> limits = Caffeine.newBuilder().maximumSize(MAX_TOPICS)
            .expireAfterWrite(Duration.ofMinutes(10)).build();
    /** Topics whose limit could not be read lately: a broker away must not cost a lookup per request. */
    private final Cache<String, Boolean> unknown = Caffeine.newBuilder().maximumSize(MAX_TOPICS)
            .expireAfterWrite(Duration.ofSeconds(5)).build();
    /** Topics the broker refused this worker lately, with its reason; ACLs may change, so not for long. */
    private final Cache<String, String> closed = Caffeine.newBuilder().maximumSize(MAX_TOPICS)
            .expireAfterWrite(Duration.ofMinutes(1)).build();
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

    /** The topic's limit if it was looked up, without waiting for anything. */
    public OptionalInt known(String topic) {
        Integer limit = limits.getIfPresent(topic);
        return limit == null ? OptionalInt.empty() : OptionalInt.of(limit);
    }

    /**
     * Looks the topic's limit up unless it is known or could not be read lately; a topic still to
     * be created, or a broker away, leaves it unknown, and the events go unchecked.
     */
    public void lookUp(String topic) {
        if (limits.getIfPresent(topic) != null || unknown.getIfPresent(topic) != null || closed.getIfPresent(topic) != null) {
            return;
        }
        try {
            OptionalInt limit = read(topic);
            if (limit.isEmpty()) {
                // A topic created a moment ago may not have reached the broker that answers yet.
                Thread.sleep(JUST_CREATED_PAUSE_MS);
                limit = read(topic);
            }
            if (limit.isPresent()) {
                limits.put(topic, limit.getAsInt());
            } else {
                unknown.put(topic, true);
            }
        } catch (ExecutionException e) {
            if (e.getCause() instanceof TopicAuthorizationException refused) {
                closed.put(topic, refused.getMessage());
                return;
            }
            LOG.warnf("no record limit known for %s (events to it are not checked for size for a while): %s", topic,
                    e.toString());
            unknown.put(topic, true);
        } catch (java.util.concurrent.TimeoutException | RuntimeException e) {
            LOG.warnf("no record limit known for %s (events to it are not checked for size for a while): %s", topic,
                    e.toString());
            unknown.put(topic, true);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Why this worker may not write to {@code topic}, when the broker refused it (looked up if need be). */
    public Optional<String> closedBecause(String topic) {
        lookUp(topic);
        return Optional.ofNullable(closed.getIfPresent(topic));
    }

    /** The topic's limit, or empty when the topic does not exist (yet). */
    private OptionalInt read(String topic)
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
