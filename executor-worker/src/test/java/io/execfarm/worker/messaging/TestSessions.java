package io.execfarm.worker.messaging;

import io.execfarm.contracts.RedisKeys;
import io.execfarm.contracts.SessionRecord;
import io.vertx.mutiny.core.Vertx;
import io.vertx.mutiny.redis.client.Redis;
import io.vertx.mutiny.redis.client.RedisAPI;
import io.vertx.mutiny.redis.client.Response;
import io.vertx.redis.client.RedisClientType;
import io.vertx.redis.client.RedisOptions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Sessions made in Redis the way the dispatcher makes them ({@code POST /v1/sessions}), for tests
 * that drive workers through Kafka alone.
 */
final class TestSessions implements AutoCloseable {

    private final Vertx vertx = Vertx.vertx();
    private final Redis client;
    private final RedisAPI redis;

    TestSessions(String redisUrl) {
        this(redisUrl, false);
    }

    /** On a Redis Cluster when {@code cluster}: {@code redisUrls} then names some of its nodes, comma-separated. */
    TestSessions(String redisUrls, boolean cluster) {
        RedisOptions options = new RedisOptions().setType(cluster ? RedisClientType.CLUSTER : RedisClientType.STANDALONE);
        List.of(redisUrls.split(",")).forEach(options::addConnectionString);
        client = Redis.createClient(vertx, options);
        redis = RedisAPI.api(client);
    }

    RedisAPI api() {
        return redis;
    }

    String create(String tenant) {
        return create(tenant, "python", Duration.ofMinutes(30), Duration.ofHours(24), 1 << 20);
    }

    String create(String tenant, String runtime, Duration idleTimeout, Duration maxAge, long maxHistoryBytes) {
        String id = "sess-" + UUID.randomUUID();
        List<String> args = new ArrayList<>();
        args.add(RedisKeys.session(id));
        new SessionRecord(tenant, runtime, Instant.now(), idleTimeout, maxAge, maxHistoryBytes).fields()
                .forEach((field, value) -> {
                    args.add(field);
                    args.add(value);
                });
        redis.hsetAndAwait(args);
        redis.pexpireAndAwait(List.of(RedisKeys.session(id), Long.toString(idleTimeout.toMillis())));
        return id;
    }

    /** A field of the session's record, or null. */
    String field(String session, String field) {
        Response value = redis.hgetAndAwait(RedisKeys.session(session), field);
        return value == null ? null : value.toString();
    }

    /** Overwrites one field of the session's record, as a bug or a hand edit might. */
    void set(String session, String field, String value) {
        redis.hsetAndAwait(List.of(RedisKeys.session(session), field, value));
    }

    /** A request's result, stored as its worker stores it, delivered once already. */
    void storeResult(String requestId, String result) {
        redis.setexAndAwait(RedisKeys.result(requestId), "600", result);
        redis.setexAndAwait(RedisKeys.ofRequest("attempts", requestId), "600", "1");
    }

    /** A file of the session, stored as the dispatcher stores it (PUT /v1/sessions/{id}/files/{path}). */
    void putFile(String session, String path, String content) {
        redis.hsetAndAwait(List.of(RedisKeys.sessionFiles(session), path, content));
        redis.hincrbyAndAwait(RedisKeys.session(session), SessionRecord.Field.FILES_VERSION, "1");
    }

    boolean exists(String session) {
        return redis.existsAndAwait(List.of(RedisKeys.session(session))).toInteger() == 1;
    }

    void delete(String session) {
        redis.delAndAwait(List.of(RedisKeys.session(session), RedisKeys.sessionHistory(session), RedisKeys.sessionRecorded(session)));
    }

    @Override
    public void close() {
        client.close();
        vertx.closeAndAwait();
    }
}
