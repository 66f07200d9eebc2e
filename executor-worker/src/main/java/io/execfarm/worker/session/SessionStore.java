package io.execfarm.worker.session;

import io.execfarm.contracts.RedisKeys;
import io.execfarm.worker.delivery.ReplicatedWrites;
import io.quarkus.redis.datasource.RedisDataSource;
import io.quarkus.redis.datasource.keys.KeyCommands;
import io.quarkus.redis.datasource.list.ListCommands;
import io.vertx.mutiny.redis.client.Response;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Sessions as the worker sees them in Redis ({@link RedisKeys#session}, {@link RedisKeys#sessionHistory}).
 * Blocking; used from worker threads.
 *
 * <p>Every decision that depends on time uses the Redis server's clock, inside the script that
 * acts on it, so workers and dispatchers on hosts with different clocks agree on when a session
 * ends. A session that has reached its maximum age is deleted the first time a request names it.
 */
@ApplicationScoped
public class SessionStore {

    /** Whether a request may run in a session, and if so how long its history is; refreshes the idle timeout. */
    private static final String OPEN = """
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
            local s = redis.call('HMGET', KEYS[1], 'tenant', 'runtime', 'createdAt', 'idleTimeoutMs', 'maxAgeMs',
                'maxHistoryBytes', 'historyBytes', 'snippets', 'filesVersion')
            if not s[1] or s[1] ~= ARGV[1] then
              return {'missing'}
            end
            local ends = tonumber(s[3]) + tonumber(s[5])
            if ends <= now then
              redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5])
              return {'missing'}
            end
            if s[2] ~= ARGV[2] then
              return {'runtime', s[2]}
            end
            if tonumber(s[7]) + tonumber(ARGV[3]) > tonumber(s[6]) then
              return {'full', s[6], s[7]}
            end
            redis.call('HSET', KEYS[1], 'lastUsedAt', now)
            local expires = math.min(now + tonumber(s[4]), ends)
            for i = 1, 5 do
              redis.call('PEXPIREAT', KEYS[i], expires)
            end
            return {'open', s[8], s[9] or '0'}
            """;

    /**
     * Appends a session request's code to the history, once: a request whose id the session's
     * recorded ids hold is not appended again. Returns the history's length, or -1 when the
     * session ended.
     */
    private static final String RECORD = """
            local s = redis.call('HMGET', KEYS[1], 'tenant', 'createdAt', 'idleTimeoutMs', 'maxAgeMs', 'snippets')
            if not s[1] or s[1] ~= ARGV[1] then
              return -1
            end
            if ARGV[4] ~= '1' or redis.call('SADD', KEYS[3], ARGV[2]) == 0 then
              return tonumber(s[5])
            end
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
            redis.call('RPUSH', KEYS[2], ARGV[3])
            redis.call('HINCRBY', KEYS[1], 'historyBytes', string.len(ARGV[3]))
            local n = redis.call('HINCRBY', KEYS[1], 'snippets', 1)
            redis.call('HSET', KEYS[1], 'lastRequest', ARGV[2], 'lastUsedAt', now)
            local expires = math.min(now + tonumber(s[3]), tonumber(s[2]) + tonumber(s[4]))
            for i = 1, 5 do
              redis.call('PEXPIREAT', KEYS[i], expires)
            end
            return n
            """;

    /** The answer to opening a session for a request. */
    public sealed interface Opening {
        /** The request may run; the session's history holds {@code snippets} entries, its files are at {@code filesVersion}. */
        record Open(long snippets, long filesVersion) implements Opening {
        }

        /** The request may not run, for the reason given. */
        record Refused(String errorType, String message) implements Opening {
        }
    }

    private final RedisDataSource redis;
    private final ReplicatedWrites writes;
    private final ListCommands<String, String> lists;
    private final KeyCommands<String> keys;

    public SessionStore(RedisDataSource redis, ReplicatedWrites writes) {
        this.redis = redis;
        this.writes = writes;
        this.lists = redis.list(String.class);
        this.keys = redis.key();
    }

    /** Whether {@code tenant} may run {@code code} in {@code session} on {@code runtime}. */
    public Opening open(String session, String tenant, String runtime, String code) {
        long codeBytes = code.getBytes(StandardCharsets.UTF_8).length;
        Response answer = redis.execute("EVAL", OPEN, "5", RedisKeys.session(session), RedisKeys.sessionHistory(session),
                RedisKeys.sessionRecorded(session), RedisKeys.sessionFiles(session), RedisKeys.sessionFileMeta(session),
                tenant, runtime, Long.toString(codeBytes));
        return switch (answer.get(0).toString()) {
            case "open" -> new Opening.Open(answer.get(1).toLong(), answer.get(2).toLong());
            case "runtime" -> new Opening.Refused("SessionRuntimeMismatch", "session " + session + " is a "
                    + answer.get(1) + " session; send its requests to " + answer.get(1));
            case "full" -> new Opening.Refused("SessionHistoryFull", "session " + session + " has reached its limit of "
                    + answer.get(1) + " bytes of history (" + answer.get(2) + " used; this request's code is " + codeBytes
                    + " bytes); start a new session");
            // A session of another tenant is reported exactly like one that does not exist.
            default -> new Opening.Refused("SessionNotFound", "session " + session + " does not exist: it was never "
                    + "created, was deleted, or ended (idle timeout or maximum age)");
        };
    }

    /**
     * Records request {@code requestId} in the session: when {@code appendToHistory}, appends
     * {@code code} to its history (once, however often this is called for the request). Returns the
     * history's length afterwards, or -1 when the session has ended.
     */
    public long record(String session, String tenant, String requestId, String code, boolean appendToHistory) {
        return writes.eval(RECORD, List.of(RedisKeys.session(session), RedisKeys.sessionHistory(session),
                RedisKeys.sessionRecorded(session), RedisKeys.sessionFiles(session), RedisKeys.sessionFileMeta(session)),
                List.of(tenant, requestId, code, appendToHistory ? "1" : "0")).toLong();
    }

    /** The code of history entries {@code from} (inclusive) to {@code to} (exclusive). */
    public List<String> history(String session, long from, long to) {
        return lists.lrange(RedisKeys.sessionHistory(session), from, to - 1);
    }

    /** The session's files, by path (RedisKeys#sessionFiles). */
    public Map<String, byte[]> files(String session) {
        return redis.hash(byte[].class).hgetall(RedisKeys.sessionFiles(session));
    }

    public long historyLength(String session) {
        return lists.llen(RedisKeys.sessionHistory(session));
    }

    /** Those of {@code sessions} that no longer exist. */
    public Set<String> ended(Collection<String> sessions) {
        return sessions.stream().filter(session -> !keys.exists(RedisKeys.session(session))).collect(Collectors.toSet());
    }
}
