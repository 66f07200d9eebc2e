package io.execfarm.contracts;

import java.util.regex.Pattern;

/**
 * The syntax of names that travel on the wire. They become Kafka topic names, Redis keys and
 * header values, so they are restricted to characters that are safe in all three.
 */
public final class WireNames {

    /** Lower-case letter first, then up to 31 lower-case letters, digits, '_' or '-'. */
    public static final Pattern RUNTIME = Pattern.compile("[a-z][a-z0-9_-]{0,31}");
    /** Request and session ids: a UUID fits; 1 to 128 of letters, digits, '.', '_', ':' or '-'. */
    public static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:-]{0,127}");
    /** Tenant names: 1 to 64 of letters, digits, '.', '_' or '-'. */
    public static final Pattern TENANT = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
    /**
     * Tenants that use Kafka: as {@link #TENANT} without '.', since the name ends a topic prefix
     * ({@code execfarm.tenant.<name>.}) that must not cover another tenant's topics.
     */
    public static final Pattern KAFKA_TENANT = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]{0,63}");
    /** Kafka's own rule for topic names. */
    public static final Pattern TOPIC = Pattern.compile("[A-Za-z0-9._-]{1,249}");

    private WireNames() {
    }

    public static boolean isRuntime(String s) {
        return s != null && RUNTIME.matcher(s).matches();
    }

    public static boolean isKafkaTenant(String s) {
        return s != null && KAFKA_TENANT.matcher(s).matches();
    }

    /** {@code tenant}, when it is a tenant name for Kafka ({@link #KAFKA_TENANT}). */
    public static String requireKafkaTenant(String tenant) {
        if (!isKafkaTenant(tenant)) {
            throw new IllegalArgumentException("not a tenant name for Kafka (letters, digits, '_' and '-', at most 64): "
                    + tenant);
        }
        return tenant;
    }

    public static boolean isId(String s) {
        return s != null && ID.matcher(s).matches();
    }
}
