package io.execfarm.dispatcher.messaging;

import io.execfarm.dispatcher.config.DispatcherConfig;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.common.annotation.Identifier;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.ConsumerGroupListing;
import org.jboss.logging.Logger;

/**
 * Which runtimes have live workers right now: a runtime is live when its consumer group
 * {@code execfarm-workers-<runtime>} has members, and away when the group is there without members
 * (its workers stopped, or are being replaced). Looked up in Kafka in the background, so a
 * submission never waits for it. The last answer is the gauge {@code execfarm_live_runtime} (1 per
 * live runtime), so that whoever starts a worker can tell when this dispatcher will accept work for it.
 */
@ApplicationScoped
public class LiveWorkers {

    private static final Logger LOG = Logger.getLogger(LiveWorkers.class);
    private static final String GROUP_PREFIX = "execfarm-workers-";

    private final Map<String, Object> kafka;
    private final DispatcherConfig config;
    private final ScheduledExecutorService refresher = Executors.newSingleThreadScheduledExecutor(runnable -> {
        Thread thread = new Thread(runnable, "execfarm-live-workers");
        thread.setDaemon(true);
        return thread;
    });
    private final MultiGauge gauge;
    /** One lookup's answer, replaced whole, so no reader sees a runtime in neither set or in both. */
    private volatile Lookup last = new Lookup(Set.of(), Set.of());

    private record Lookup(Set<String> live, Set<String> away) {
    }
    private Admin admin;

    /** @param kafka the application's {@code kafka.*} settings, as the connector reads them (TLS, SASL...) */
    public LiveWorkers(@Identifier("default-kafka-broker") Map<String, Object> kafka, DispatcherConfig config,
            MeterRegistry registry) {
        this.kafka = kafka;
        this.config = config;
        this.gauge = MultiGauge.builder("execfarm.live.runtime")
                .description("1 for each runtime this dispatcher accepts work for (its worker group has members)")
                .register(registry);
    }

    void start(@Observes StartupEvent event) {
        Map<String, Object> settings = new HashMap<>(kafka);
        settings.keySet().retainAll(AdminClientConfig.configNames());
        settings.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5000);
        settings.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10000);
        admin = Admin.create(settings);
        // The first answer before serving: otherwise every submission would be refused until it came.
        refresh();
        long every = config.liveWorkersRefresh().toMillis();
        refresher.scheduleWithFixedDelay(this::refresh, every, every, TimeUnit.MILLISECONDS);
    }

    void stop(@Observes ShutdownEvent event) {
        refresher.shutdownNow();
        if (admin != null) {
            admin.close();
        }
    }

    /** Whether a runtime's workers serve now, are away for the moment, or never served here. */
    public enum Availability {
        LIVE, AWAY, UNKNOWN
    }

    /** {@code runtime}'s availability, as of the last lookup. */
    public Availability availability(String runtime) {
        Lookup lookup = last;
        return lookup.live().contains(runtime) ? Availability.LIVE
                : lookup.away().contains(runtime) ? Availability.AWAY : Availability.UNKNOWN;
    }

    /** Runtimes with at least one live worker, as of the last lookup. */
    public Set<String> runtimes() {
        return last.live();
    }

    private void refresh() {
        try {
            List<String> groups = admin.listConsumerGroups().all().get(10, TimeUnit.SECONDS).stream()
                    .map(ConsumerGroupListing::groupId)
                    .filter(id -> id.startsWith(GROUP_PREFIX))
                    .toList();
            Set<String> live = new TreeSet<>();
            Set<String> empty = new TreeSet<>();
            if (!groups.isEmpty()) {
                for (ConsumerGroupDescription group : admin.describeConsumerGroups(groups).all()
                        .get(10, TimeUnit.SECONDS).values()) {
                    (group.members().isEmpty() ? empty : live).add(group.groupId().substring(GROUP_PREFIX.length()));
                }
            }
            last = new Lookup(Set.copyOf(live), Set.copyOf(empty));
            gauge.register(live.stream().map(runtime -> MultiGauge.Row.of(Tags.of("runtime", runtime), 1)).toList(),
                    true);
        } catch (Exception e) {
            LOG.warnf("could not look up live workers (keeping the last answer %s): %s", last.live(), e.getMessage());
        }
    }
}
