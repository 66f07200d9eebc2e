package io.execfarm.dispatcher.tenancy;

import io.execfarm.contracts.RedisKeys;
import io.execfarm.dispatcher.config.DispatcherConfig;
import io.quarkus.redis.datasource.ReactiveRedisDataSource;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.security.MessageDigest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * API keys and the tenants they belong to: from configuration ({@code key:tenant} entries), and
 * those made at run time in Redis ({@link RedisKeys#API_KEYS}, by {@code ./farm tenant add}),
 * each remembered here for a few seconds, so a removed key stops working within them.
 */
@ApplicationScoped
public class ApiKeys {

    private static final Duration REMEMBERED = Duration.ofSeconds(5);
    /** Wrong keys are remembered too; a client trying many is bounded by this. */
    private static final int MAX_REMEMBERED = 10_000;

    private final Map<String, String> tenantsByKey = new HashMap<>();
    private final boolean openMode;
    private final String openTenant;
    private final ReactiveRedisDataSource redis;
    /** Run-time keys by digest, with their tenant or none, as Redis answered lately. */
    private final Map<String, Remembered> remembered = new ConcurrentHashMap<>();

    private record Remembered(Optional<String> tenant, long untilNanos) {
    }

    public ApiKeys(DispatcherConfig config, ReactiveRedisDataSource redis) {
        this.redis = redis;
        for (String entry : config.apiKeys()) {
            if (entry.isBlank() || entry.equals("none")) {
                continue;
            }
            int colon = entry.lastIndexOf(':');
            if (colon <= 0 || colon == entry.length() - 1) {
                throw new IllegalArgumentException("execfarm.dispatcher.api-keys entries are key:tenant; one is not");
            }
            tenantsByKey.put(entry.substring(0, colon).strip(), entry.substring(colon + 1).strip());
        }
        this.openMode = config.openMode();
        this.openTenant = config.openTenant();
    }

    /** The tenant of {@code key}: configured, else made at run time; in open mode a missing key means the open tenant. */
    public Uni<Optional<String>> tenantOf(String key) {
        Optional<String> configured = configuredTenantOf(key);
        if (configured.isPresent() || key == null || key.isBlank()) {
            return Uni.createFrom().item(configured);
        }
        String field = RedisKeys.apiKeyField(key);
        Remembered known = remembered.get(field);
        if (known != null && known.untilNanos() - System.nanoTime() > 0) {
            return Uni.createFrom().item(known.tenant());
        }
        return redis.hash(String.class).hget(RedisKeys.API_KEYS, field).map(Optional::ofNullable)
                .invoke(tenant -> {
                    if (remembered.size() > MAX_REMEMBERED) {
                        remembered.clear();
                    }
                    remembered.put(field, new Remembered(tenant, System.nanoTime() + REMEMBERED.toNanos()));
                });
    }

    private Optional<String> configuredTenantOf(String key) {
        if (key == null || key.isBlank()) {
            return openMode ? Optional.of(openTenant) : Optional.empty();
        }
        // Compare every configured key in constant time, so timing does not reveal a key's prefix.
        String found = null;
        byte[] given = key.getBytes(StandardCharsets.UTF_8);
        for (Map.Entry<String, String> entry : tenantsByKey.entrySet()) {
            if (MessageDigest.isEqual(given, entry.getKey().getBytes(StandardCharsets.UTF_8))) {
                found = entry.getValue();
            }
        }
        return Optional.ofNullable(found);
    }

    /** Tenants that have a configured key, for per-tenant metrics. */
    public Set<String> tenants() {
        Set<String> tenants = new TreeSet<>(tenantsByKey.values());
        if (openMode) {
            tenants.add(openTenant);
        }
        return tenants;
    }
}
