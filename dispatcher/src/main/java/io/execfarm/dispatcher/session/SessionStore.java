package io.execfarm.dispatcher.session;

import io.execfarm.contracts.RedisKeys;
import io.execfarm.contracts.SessionRecord;
import io.quarkus.redis.datasource.ReactiveRedisDataSource;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Sessions in Redis, as the dispatcher makes and reads them. Workers keep the counters and the
 * history ({@code io.execfarm.worker.session.SessionStore}); the record's format is
 * {@link SessionRecord}'s.
 */
@ApplicationScoped
public class SessionStore {

    /**
     * The record and its idle expiry in one step, so a session never exists without an end; its
     * creation time is the Redis server's, the clock workers measure its age by.
     */
    private static final String CREATE = """
            redis.call('HSET', KEYS[1], unpack(ARGV, 2))
            local t = redis.call('TIME')
            redis.call('HSET', KEYS[1], 'createdAt', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
            redis.call('PEXPIRE', KEYS[1], ARGV[1])
            return 1
            """;

    /**
     * Creates the session unless its id is taken: KEYS[1] the record, ARGV[1] its idle timeout in
     * ms, ARGV[2] and ARGV[3] its tenant and runtime, the rest its fields. 1 when made, or when it
     * exists already as the same tenant's on the same runtime (a command read twice); 0 when taken.
     */
    private static final String CREATE_UNLESS_TAKEN = """
            local owner = redis.call('HMGET', KEYS[1], 'tenant', 'runtime')
            if owner[1] then
                if owner[1] == ARGV[2] and owner[2] == ARGV[3] then return 1 end
                return 0
            end
            redis.call('HSET', KEYS[1], unpack(ARGV, 4))
            local t = redis.call('TIME')
            redis.call('HSET', KEYS[1], 'createdAt', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
            redis.call('PEXPIRE', KEYS[1], ARGV[1])
            return 1
            """;

    /** A session as stored now. */
    public record StoredSession(String id, SessionRecord record, Map<String, String> fields, Instant expiresAt) {

        public long snippets() {
            return number(SessionRecord.Field.SNIPPETS);
        }

        public long historyBytes() {
            return number(SessionRecord.Field.HISTORY_BYTES);
        }

        /** When a request last named it, or null when none has. */
        public Instant lastUsedAt() {
            String at = fields.get(SessionRecord.Field.LAST_USED_AT);
            return at == null ? null : Instant.ofEpochMilli(Long.parseLong(at));
        }

        private long number(String field) {
            String value = fields.get(field);
            return value == null ? 0 : Long.parseLong(value);
        }
    }

    private final ReactiveRedisDataSource redis;

    public SessionStore(ReactiveRedisDataSource redis) {
        this.redis = redis;
    }

    public Uni<Void> create(String id, SessionRecord record) {
        List<String> args = new ArrayList<>(List.of("EVAL", CREATE, "1", RedisKeys.session(id),
                Long.toString(record.idleTimeout().toMillis())));
        record.fields().forEach((field, value) -> {
            args.add(field);
            args.add(value);
        });
        return redis.execute(args.get(0), args.subList(1, args.size()).toArray(String[]::new)).replaceWithVoid();
    }

    /**
     * Creates session {@code id} as a client named it (a Kafka tenant's {@code openSession}), unless
     * another session holds the id; true when it is {@code record}'s tenant's on its runtime now.
     */
    public Uni<Boolean> createUnlessTaken(String id, SessionRecord record) {
        List<String> args = new ArrayList<>(List.of("EVAL", CREATE_UNLESS_TAKEN, "1", RedisKeys.session(id),
                Long.toString(record.idleTimeout().toMillis()), record.tenant(), record.runtime()));
        record.fields().forEach((field, value) -> {
            args.add(field);
            args.add(value);
        });
        return redis.execute(args.get(0), args.subList(1, args.size()).toArray(String[]::new))
                .map(made -> made.toLong() == 1);
    }

    /** The session, or null when it does not exist (never created, deleted, or ended). */
    public Uni<StoredSession> find(String id) {
        String key = RedisKeys.session(id);
        return redis.hash(String.class).hgetall(key).chain(fields -> {
            SessionRecord record = SessionRecord.fromFields(fields);
            if (record == null) {
                return Uni.createFrom().nullItem();
            }
            return redis.key().pttl(key).map(ttl -> {
                Instant now = Instant.now();
                if (ttl < 0 || !record.endOfLife().isAfter(now)) {
                    return null;
                }
                Instant idleEnd = now.plusMillis(ttl);
                return new StoredSession(id, record, fields,
                        idleEnd.isBefore(record.endOfLife()) ? idleEnd : record.endOfLife());
            });
        });
    }

    /** Ends the session: its record, history and files go; a request naming it afterwards is rejected. */
    public Uni<Void> delete(String id) {
        return redis.key().del(RedisKeys.session(id), RedisKeys.sessionHistory(id), RedisKeys.sessionRecorded(id),
                RedisKeys.sessionFiles(id), RedisKeys.sessionFileMeta(id)).replaceWithVoid();
    }
}
