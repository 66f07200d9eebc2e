package io.execfarm.farm;

import io.execfarm.accounts.Passwords;
import io.execfarm.contracts.RedisKeys;
import java.net.URI;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import redis.clients.jedis.Jedis;

/**
 * The HTTP API keys made at run time, in the farm's Redis ({@link RedisKeys#API_KEYS}), which
 * every dispatcher reads beside its configured keys: a key is stored only as its digest, so it is
 * shown once, when made.
 */
final class ApiKeyStore {

    private final URI redis;

    ApiKeyStore(String redisUrl) {
        this.redis = URI.create(redisUrl);
    }

    /** A new key of {@code tenant}'s, returned in full this once. */
    String add(String tenant) {
        String key = Passwords.generate();
        try (Jedis jedis = new Jedis(redis)) {
            jedis.hset(RedisKeys.API_KEYS, RedisKeys.apiKeyField(key), tenant);
        }
        return key;
    }

    /** Removes every key of {@code tenant}'s; returns how many there were. */
    int removeAll(String tenant) {
        try (Jedis jedis = new Jedis(redis)) {
            String[] fields = jedis.hgetAll(RedisKeys.API_KEYS).entrySet().stream()
                    .filter(entry -> entry.getValue().equals(tenant)).map(Map.Entry::getKey).toArray(String[]::new);
            return fields.length == 0 ? 0 : (int) jedis.hdel(RedisKeys.API_KEYS, fields);
        }
    }

    /** How many keys each tenant has. */
    Map<String, Long> counts() {
        try (Jedis jedis = new Jedis(redis)) {
            return jedis.hgetAll(RedisKeys.API_KEYS).values().stream()
                    .collect(Collectors.groupingBy(tenant -> tenant, TreeMap::new, Collectors.counting()));
        }
    }
}
