package io.execfarm.dispatcher.tenancy;

import io.execfarm.dispatcher.config.DispatcherConfig;
import jakarta.enterprise.context.ApplicationScoped;
import java.security.MessageDigest;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/** API keys and the tenants they belong to, from configuration ({@code key:tenant} entries). */
@ApplicationScoped
public class ApiKeys {

    private final Map<String, String> tenantsByKey = new HashMap<>();
    private final boolean openMode;
    private final String openTenant;

    public ApiKeys(DispatcherConfig config) {
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

    /** The tenant of {@code key}; in open mode a missing key means the open tenant. */
    public Optional<String> tenantOf(String key) {
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

    /** Tenants that have a key, for per-tenant metrics. */
    public Set<String> tenants() {
        Set<String> tenants = new TreeSet<>(tenantsByKey.values());
        if (openMode) {
            tenants.add(openTenant);
        }
        return tenants;
    }
}
