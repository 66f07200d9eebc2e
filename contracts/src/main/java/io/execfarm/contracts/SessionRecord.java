package io.execfarm.contracts;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * What a session is when it is created, as stored in {@link RedisKeys#session}. The worker adds
 * the counters named by {@link Field#HISTORY_BYTES}, {@link Field#SNIPPETS},
 * {@link Field#LAST_USED_AT} and {@link Field#LAST_REQUEST} as requests run.
 *
 * <p>A session ends when it has been idle for {@code idleTimeout}, when it is {@code maxAge} old,
 * or when it is deleted; either way its keys are gone, and a request naming it is rejected.
 *
 * @param maxHistoryBytes the most code (UTF-8 bytes) its history may hold; a request that would
 *                        take it over is rejected
 */
public record SessionRecord(String tenant, String runtime, Instant createdAt, Duration idleTimeout, Duration maxAge,
        long maxHistoryBytes) {

    /** Field names of the hash; the workers' Lua scripts use the same names. */
    public static final class Field {
        public static final String TENANT = "tenant";
        public static final String RUNTIME = "runtime";
        /** Epoch milliseconds. */
        public static final String CREATED_AT = "createdAt";
        public static final String IDLE_TIMEOUT_MS = "idleTimeoutMs";
        public static final String MAX_AGE_MS = "maxAgeMs";
        public static final String MAX_HISTORY_BYTES = "maxHistoryBytes";
        /** Epoch milliseconds of the latest request that named it; absent until one did. */
        public static final String LAST_USED_AT = "lastUsedAt";
        public static final String HISTORY_BYTES = "historyBytes";
        public static final String SNIPPETS = "snippets";
        /** The id of the latest request appended to the history, so a redelivery is appended once. */
        public static final String LAST_REQUEST = "lastRequest";
        /**
         * Counts changes to the session's files ({@link RedisKeys#sessionFiles}): a worker whose process
         * has written an older count writes the files again before the next request.
         */
        public static final String FILES_VERSION = "filesVersion";
        /** Bytes the session's files hold together. */
        public static final String FILES_BYTES = "filesBytes";

        private Field() {
        }
    }

    public SessionRecord {
        Objects.requireNonNull(tenant, "tenant");
        Objects.requireNonNull(runtime, "runtime");
        Objects.requireNonNull(createdAt, "createdAt");
        if (idleTimeout.isNegative() || idleTimeout.isZero() || maxAge.isNegative() || maxAge.isZero()) {
            throw new IllegalArgumentException("a session's idle timeout and maximum age must be positive");
        }
        if (maxHistoryBytes < 0) {
            throw new IllegalArgumentException("maxHistoryBytes must not be negative");
        }
    }

    /** The hash fields a new session starts with. */
    public Map<String, String> fields() {
        return Map.of(
                Field.TENANT, tenant,
                Field.RUNTIME, runtime,
                Field.CREATED_AT, Long.toString(createdAt.toEpochMilli()),
                Field.IDLE_TIMEOUT_MS, Long.toString(idleTimeout.toMillis()),
                Field.MAX_AGE_MS, Long.toString(maxAge.toMillis()),
                Field.MAX_HISTORY_BYTES, Long.toString(maxHistoryBytes),
                Field.HISTORY_BYTES, "0",
                Field.SNIPPETS, "0");
    }

    /** The record described by a stored hash, or null when the hash is empty or not a session. */
    public static SessionRecord fromFields(Map<String, String> fields) {
        if (fields == null || !fields.containsKey(Field.TENANT) || !fields.containsKey(Field.RUNTIME)) {
            return null;
        }
        try {
            return new SessionRecord(fields.get(Field.TENANT), fields.get(Field.RUNTIME),
                    Instant.ofEpochMilli(Long.parseLong(fields.get(Field.CREATED_AT))),
                    Duration.ofMillis(Long.parseLong(fields.get(Field.IDLE_TIMEOUT_MS))),
                    Duration.ofMillis(Long.parseLong(fields.get(Field.MAX_AGE_MS))),
                    Long.parseLong(fields.get(Field.MAX_HISTORY_BYTES)));
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** When the session ends at the latest, whatever its use. */
    public Instant endOfLife() {
        return createdAt.plus(maxAge);
    }
}
