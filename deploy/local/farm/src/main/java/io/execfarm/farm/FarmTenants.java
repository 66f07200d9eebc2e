package io.execfarm.farm;

import io.execfarm.accounts.KafkaLogin;
import io.execfarm.accounts.KafkaTenants;
import io.execfarm.accounts.Passwords;
import io.execfarm.contracts.RedisKeys;
import io.execfarm.contracts.WireNames;
import java.time.Duration;
import redis.clients.jedis.UnifiedJedis;

/**
 * A running farm's tenants, each both a Kafka user (KafkaTenants) and an HTTP API key, added and
 * removed in one step; what {@code ./farm tenant} and the benchmarks use.
 */
public final class FarmTenants {

    /** How long a removal waits for the dispatchers to be past what the tenant left in its ingress topic. */
    private static final Duration FORWARDING_WAIT = Duration.ofSeconds(60);

    /** A tenant just added: its Kafka login and its API key, both shown this once. */
    public record Added(KafkaLogin login, String apiKey) {
    }

    /** A tenant just removed: how many API keys it had, and whether the forwarders were past its records when its topics went. */
    public record Removed(int apiKeys, boolean forwarded) {
    }

    private final KafkaLogin admin;
    private final UnifiedJedis redis;
    private final ApiKeyStore keys;

    /** @param redis the farm's Redis ({@link FarmRedis}), which the caller closes */
    public FarmTenants(KafkaLogin admin, UnifiedJedis redis) {
        this.admin = admin;
        this.redis = redis;
        this.keys = new ApiKeyStore(redis);
    }

    /** Adds the tenant, or gives it a new password, quota and key. */
    public Added add(String name, KafkaTenants.Quota quota, int partitions) {
        WireNames.requireKafkaTenant(name);
        redis.srem(RedisKeys.REMOVED_TENANTS, name);
        KafkaLogin login = KafkaTenants.add(admin, name, Passwords.generate(), quota, partitions);
        return new Added(login, keys.add(name));
    }

    /**
     * Removes the tenant: first the dispatchers are told to drop what it left in its ingress topic,
     * then its keys and Kafka user go, and its topics once the dispatchers are past it.
     */
    public Removed remove(String name) {
        WireNames.requireKafkaTenant(name);
        redis.sadd(RedisKeys.REMOVED_TENANTS, name);
        int removedKeys = keys.removeAll(name);
        boolean forwarded = KafkaTenants.remove(admin, name, FORWARDING_WAIT);
        return new Removed(removedKeys, forwarded);
    }
}
