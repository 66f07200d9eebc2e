package io.execfarm.dispatcher.tenancy;

import io.execfarm.contracts.RedisKeys;
import io.execfarm.dispatcher.config.DispatcherConfig;
import io.quarkus.redis.datasource.ReactiveRedisDataSource;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;

/**
 * Executions in flight per tenant, shared by every instance: a sorted set of execution ids scored
 * by the time after which an execution no longer counts (its timeout plus the queue timeout), so
 * an execution whose result never came (a crashed worker, a lost dispatcher) stops counting on its
 * own. Admission is one atomic script; the set itself expires with its latest-counting member.
 * An execution counted already is admitted again: the forwarder reads a tenant's record again
 * after a rebalance, and a tenant may send a request again; either is the same execution.
 */
@ApplicationScoped
public class InFlight {

    private static final String ADMIT = """
            redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
            if redis.call('ZSCORE', KEYS[1], ARGV[4]) then
              return 1
            end
            if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
              return 0
            end
            redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
            local latest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
            redis.call('PEXPIREAT', KEYS[1], latest[2])
            return 1
            """;

    private final ReactiveRedisDataSource redis;
    private final DispatcherConfig config;

    public InFlight(ReactiveRedisDataSource redis, DispatcherConfig config) {
        this.redis = redis;
        this.config = config;
    }

    public int limit(String tenant) {
        return config.tenantLimits().getOrDefault(tenant, config.maxInFlightPerTenant());
    }

    /** Counts the execution against its tenant; false when the tenant is at its limit. */
    public Uni<Boolean> admit(String tenant, String executionId, Instant countsUntil) {
        return redis.execute("EVAL", ADMIT, "1", key(tenant), Long.toString(Instant.now().toEpochMilli()),
                        Integer.toString(limit(tenant)), Long.toString(countsUntil.toEpochMilli()), executionId)
                .map(response -> response != null && response.toInteger() == 1);
    }

    public Uni<Void> release(String tenant, String executionId) {
        return redis.sortedSet(String.class).zrem(key(tenant), executionId).replaceWithVoid();
    }

    public Uni<Long> count(String tenant) {
        return redis.sortedSet(String.class).zcount(key(tenant),
                new io.quarkus.redis.datasource.sortedset.ScoreRange<>((double) Instant.now().toEpochMilli(),
                        Double.POSITIVE_INFINITY));
    }

    /** A tenant's set ({@link RedisKeys#inFlight}); storing a result ends its count too (ExecutionStore). */
    private static String key(String tenant) {
        return RedisKeys.inFlight(tenant);
    }
}
