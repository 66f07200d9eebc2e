package io.execfarm.dispatcher.http;

import io.execfarm.dispatcher.events.EventFollower;
import io.execfarm.dispatcher.tenancy.ApiKeys;
import io.execfarm.dispatcher.tenancy.InFlight;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.StartupEvent;
import io.vertx.mutiny.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Dispatcher gauges at /q/metrics: open event streams, and executions in flight per tenant (read
 * from Redis every few seconds, so a scrape never waits on Redis). HTTP request latency comes from
 * Quarkus as the {@code http_server_requests_seconds} histogram.
 */
@ApplicationScoped
public class DispatcherMetrics {

    private static final long IN_FLIGHT_REFRESH_MS = 5000;

    private final Map<String, AtomicLong> inFlightByTenant = new ConcurrentHashMap<>();

    void register(@Observes StartupEvent event, MeterRegistry registry, EventFollower follower, ApiKeys keys,
            InFlight inFlight, Vertx vertx) {
        Gauge.builder("execfarm.sse.clients", follower, EventFollower::following)
                .description("Event streams open on this instance")
                .register(registry);
        for (String tenant : keys.tenants()) {
            AtomicLong count = inFlightByTenant.computeIfAbsent(tenant, t -> new AtomicLong());
            Gauge.builder("execfarm.tenant.in.flight", count, AtomicLong::get)
                    .description("Executions in flight, by tenant, across all instances")
                    .tag("tenant", tenant)
                    .register(registry);
        }
        vertx.setPeriodic(IN_FLIGHT_REFRESH_MS, id -> inFlightByTenant.forEach((tenant, count) ->
                inFlight.count(tenant).subscribe().with(count::set, failure -> { })));
    }
}
