package io.execfarm.farm;

import io.execfarm.accounts.KafkaLogin;
import io.execfarm.accounts.KafkaTenants;
import io.execfarm.accounts.Passwords;
import io.execfarm.contracts.RedisKeys;
import io.execfarm.contracts.WireNames;
import java.net.URI;
import java.time.Duration;
import redis.clients.jedis.Jedis;

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
    private final URI redis;
    private final ApiKeyStore keys;

    public FarmTenants(KafkaLogin admin, String redisUrl) {
        this.admin = admin;
        this.redis = URI.create(redisUrl);
        this.keys = new ApiKeyStore(redisUrl);
    }

    /** Adds the tenant, or gives it a new password, quota and key. */
    public Added add(String name, KafkaTenants.Quota quota, int partitions) {
        WireNames.requireKafkaTenant(name);
        try (Jedis jedis = new Jedis(redis)) {
            jedis.srem(RedisKeys.REMOVED_TENANTS, name);
        }
        KafkaLogin login = KafkaTenants.add(admin, name, Passwords.generate(), quota, partitions);
        return new Added(login, keys.add(name));
    }

    /**
     * Removes the tenant: first the dispatchers are told to drop what it left in its ingress topic,
     * then its keys and Kafka user go, and its topics once the dispatchers are past it.
     */
    public Removed remove(String name) {
        WireNames.requireKafkaTenant(name);
        try (Jedis jedis = new Jedis(redis)) {
            jedis.sadd(RedisKeys.REMOVED_TENANTS, name);
        }
        int removedKeys = keys.removeAll(name);
        boolean forwarded = KafkaTenants.remove(admin, name, FORWARDING_WAIT);
        return new Removed(removedKeys, forwarded);
    }
}
