package io.execfarm.dispatcher.files;

import io.execfarm.contracts.RedisKeys;
import io.quarkus.redis.datasource.ReactiveRedisDataSource;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * Stored files in Redis ({@link RedisKeys#fileMeta}, shared with the workers): a description and
 * the bytes, both expiring together. A file is its tenant's alone: to everyone else it does not exist.
 */
@ApplicationScoped
public class FileStore {

    private final ReactiveRedisDataSource redis;

    public FileStore(ReactiveRedisDataSource redis) {
        this.redis = redis;
    }

    public Uni<Void> put(String id, StoredFile file, byte[] content, Duration lifetime) {
        Map<String, String> meta = new HashMap<>(Map.of("tenant", file.tenant(), "name", file.name(),
                "size", Long.toString(file.size()), "sha256", file.sha256(), "mediaType", file.mediaType()));
        return redis.value(byte[].class).setex(RedisKeys.fileContent(id), lifetime.toSeconds(), content)
                .chain(() -> redis.hash(String.class).hset(RedisKeys.fileMeta(id), meta))
                .chain(() -> redis.key().expire(RedisKeys.fileMeta(id), lifetime.toSeconds()))
                .replaceWithVoid();
    }

    /** The file's description, or null when {@code tenant} has no file {@code id}. */
    public Uni<StoredFile> find(String tenant, String id) {
        return redis.hash(String.class).hgetall(RedisKeys.fileMeta(id)).chain(meta -> {
            if (meta.isEmpty() || !tenant.equals(meta.get("tenant"))) {
                return Uni.createFrom().nullItem();
            }
            return redis.key().pttl(RedisKeys.fileMeta(id)).map(ttl -> new StoredFile(id, meta.get("tenant"),
                    meta.get("name"), Long.parseLong(meta.get("size")), meta.get("sha256"), meta.get("mediaType"),
                    java.time.Instant.now().plusMillis(Math.max(0, ttl))));
        });
    }

    public Uni<byte[]> content(String id) {
        return redis.value(byte[].class).get(RedisKeys.fileContent(id));
    }

    public Uni<Void> delete(String id) {
        return redis.key().del(RedisKeys.fileMeta(id), RedisKeys.fileContent(id)).replaceWithVoid();
    }
}
