package io.execfarm.dispatcher.session;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.execfarm.contracts.RedisKeys;
import io.execfarm.contracts.SessionRecord;
import io.quarkus.redis.datasource.ReactiveRedisDataSource;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.redis.client.Command;
import io.vertx.mutiny.redis.client.Request;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * A session's files in Redis ({@link RedisKeys#sessionFiles}), in the session's slot: changed by
 * one script each, which checks the session is the tenant's, keeps to its limits, counts the change
 * ({@link SessionRecord.Field#FILES_VERSION}, which tells workers to write the files again) and gives
 * the files the session's own expiry.
 */
@ApplicationScoped
public class SessionFileStore {

    /** A file of a session, as listed. */
    public record SessionFile(String path, long size, String sha256, String mediaType, String uploadedAt) {
    }

    /** What became of a change. */
    public enum Outcome {
        DONE, NO_SESSION, NO_FILE, OVER_BYTES, OVER_COUNT
    }

    /**
     * KEYS: session, files, file descriptions. ARGV: tenant, path, description, max bytes, max
     * files, content. The session's other keys have its expiry; these get the same.
     */
    private static final String PUT = """
            local s = redis.call('HMGET', KEYS[1], 'tenant', 'filesBytes')
            if not s[1] or s[1] ~= ARGV[1] then
              return 'NO_SESSION'
            end
            local old = redis.call('HSTRLEN', KEYS[2], ARGV[2])
            local total = tonumber(s[2] or '0') - old + string.len(ARGV[6])
            if total > tonumber(ARGV[4]) then
              return 'OVER_BYTES'
            end
            if redis.call('HEXISTS', KEYS[2], ARGV[2]) == 0 and redis.call('HLEN', KEYS[2]) >= tonumber(ARGV[5]) then
              return 'OVER_COUNT'
            end
            redis.call('HSET', KEYS[2], ARGV[2], ARGV[6])
            redis.call('HSET', KEYS[3], ARGV[2], ARGV[3])
            redis.call('HSET', KEYS[1], 'filesBytes', total)
            redis.call('HINCRBY', KEYS[1], 'filesVersion', 1)
            local ttl = redis.call('PTTL', KEYS[1])
            if ttl > 0 then
              redis.call('PEXPIRE', KEYS[2], ttl)
              redis.call('PEXPIRE', KEYS[3], ttl)
            end
            return 'DONE'
            """;

    /** KEYS: as {@link #PUT}. ARGV: tenant, path. */
    private static final String DELETE = """
            if redis.call('HGET', KEYS[1], 'tenant') ~= ARGV[1] then
              return 'NO_SESSION'
            end
            local old = redis.call('HSTRLEN', KEYS[2], ARGV[2])
            if redis.call('HDEL', KEYS[2], ARGV[2]) == 0 then
              return 'NO_FILE'
            end
            redis.call('HDEL', KEYS[3], ARGV[2])
            redis.call('HINCRBY', KEYS[1], 'filesBytes', -old)
            redis.call('HINCRBY', KEYS[1], 'filesVersion', 1)
            return 'DONE'
            """;

    private static final ObjectMapper JSON = new ObjectMapper();

    private final ReactiveRedisDataSource redis;

    public SessionFileStore(ReactiveRedisDataSource redis) {
        this.redis = redis;
    }

    public Uni<Outcome> put(String session, String tenant, SessionFile file, byte[] content, long maxBytes,
            int maxFiles) {
        Request script = keys(Request.cmd(Command.EVAL).arg(PUT).arg(3), session).arg(tenant).arg(file.path())
                .arg(json(file)).arg(maxBytes).arg(maxFiles).arg(content);
        return redis.getRedis().send(script).map(reply -> Outcome.valueOf(reply.toString()));
    }

    public Uni<Outcome> delete(String session, String tenant, String path) {
        Request script = keys(Request.cmd(Command.EVAL).arg(DELETE).arg(3), session).arg(tenant).arg(path);
        return redis.getRedis().send(script).map(reply -> Outcome.valueOf(reply.toString()));
    }

    /** The session's files, by path; the caller has checked the session is the tenant's. */
    public Uni<List<SessionFile>> list(String session) {
        return redis.hash(String.class).hgetall(RedisKeys.sessionFileMeta(session)).map(described -> {
            List<SessionFile> files = new ArrayList<>();
            described.values().forEach(description -> files.add(read(description)));
            files.sort(Comparator.comparing(SessionFile::path));
            return files;
        });
    }

    /** A file's content, or null when the session has no such file. */
    public Uni<byte[]> content(String session, String path) {
        return redis.hash(byte[].class).hget(RedisKeys.sessionFiles(session), path);
    }

    /** The file's description, or null. */
    public Uni<SessionFile> find(String session, String path) {
        return redis.hash(String.class).hget(RedisKeys.sessionFileMeta(session), path)
                .map(description -> description == null ? null : read(description));
    }

    private static Request keys(Request request, String session) {
        return request.arg(RedisKeys.session(session)).arg(RedisKeys.sessionFiles(session))
                .arg(RedisKeys.sessionFileMeta(session));
    }

    private static String json(SessionFile file) {
        try {
            return JSON.writeValueAsString(file);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static SessionFile read(String description) {
        try {
            return JSON.readValue(description, SessionFile.class);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
