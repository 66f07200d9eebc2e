package io.execfarm.farm;

import io.execfarm.accounts.Passwords;
import io.execfarm.contracts.RedisKeys;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import redis.clients.jedis.UnifiedJedis;

/**
 * The HTTP API keys made at run time, in the farm's Redis ({@link RedisKeys#API_KEYS}), which
 * every dispatcher reads beside its configured keys: a key is stored only as its digest, so it is
 * shown once, when made.
 */
final class ApiKeyStore {

    private final UnifiedJedis redis;

    ApiKeyStore(UnifiedJedis redis) {
        this.redis = redis;
    }

    /** A new key of {@code tenant}'s, returned in full this once. */
    String add(String tenant) {
        String key = Passwords.generate();
        redis.hset(RedisKeys.API_KEYS, RedisKeys.apiKeyField(key), tenant);
        return key;
    }

    /** Removes every key of {@code tenant}'s; returns how many there were. */
    int removeAll(String tenant) {
        String[] fields = redis.hgetAll(RedisKeys.API_KEYS).entrySet().stream()
                .filter(entry -> entry.getValue().equals(tenant)).map(Map.Entry::getKey).toArray(String[]::new);
        return fields.length == 0 ? 0 : (int) redis.hdel(RedisKeys.API_KEYS, fields);
    }

    /** How many keys each tenant has. */
    Map<String, Long> counts() {
        return redis.hgetAll(RedisKeys.API_KEYS).values().stream()
                .collect(Collectors.groupingBy(tenant -> tenant, TreeMap::new, Collectors.counting()));
    }
}
