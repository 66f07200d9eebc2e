package io.execfarm.dispatcher.tenancy;

import io.execfarm.contracts.RedisKeys;
import io.quarkus.redis.datasource.ReactiveRedisDataSource;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Tenants being removed ({@link RedisKeys#REMOVED_TENANTS}, written by {@code ./farm tenant remove}),
 * whose ingress records the forwarder drops. Each answer is remembered for a few seconds: the
 * forwarder asks for every record, and a removal waits for the forwarders anyway.
 */
@ApplicationScoped
public class RemovedTenants {

    private static final Duration REMEMBERED = Duration.ofSeconds(5);

    private final ReactiveRedisDataSource redis;
    private final Map<String, Remembered> remembered = new ConcurrentHashMap<>();

    private record Remembered(boolean removed, long untilNanos) {
    }

    public RemovedTenants(ReactiveRedisDataSource redis) {
        this.redis = redis;
    }

    public Uni<Boolean> isRemoved(String tenant) {
        Remembered known = remembered.get(tenant);
        if (known != null && known.untilNanos() - System.nanoTime() > 0) {
            return Uni.createFrom().item(known.removed());
        }
        return redis.set(String.class).sismember(RedisKeys.REMOVED_TENANTS, tenant)
                .invoke(removed -> remembered.put(tenant, new Remembered(removed, System.nanoTime() + REMEMBERED.toNanos())));
    }
}
