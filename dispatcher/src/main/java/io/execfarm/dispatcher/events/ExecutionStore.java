package io.execfarm.dispatcher.events;

import io.execfarm.contracts.RedisKeys;
import io.execfarm.dispatcher.config.DispatcherConfig;
import io.execfarm.dispatcher.tenancy.InFlight;
import io.quarkus.redis.datasource.ReactiveRedisDataSource;
import io.quarkus.redis.datasource.hash.ReactiveHashCommands;
import io.quarkus.redis.datasource.list.ReactiveListCommands;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.redis.client.Response;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Executions and their events in Redis, shared by every dispatcher instance.
 *
 * <p>{@code execfarm:execution:{<id>}} is a hash describing the submission. {@code execfarm:events:{<id>}}
 * lists the request's events in order; an event's index is its SSE id. An event is appended once
 * even when Kafka delivers it twice (its identity, type and seq, goes into
 * {@code execfarm:eventids:{<id>}} in the same script), and each append is announced on the pub/sub
 * channel {@link #NOTIFICATIONS} ("&lt;id&gt; &lt;index&gt;") so live streams on every instance wake up. The
 * three keys share the request's slot ({@link RedisKeys#ofRequest}). Appending a result also ends
 * the execution's count against its tenant's in-flight limit: the script answers with the tenant
 * (from the execution's hash), whose set, in another slot, loses the id in a second step. A
 * result appended before returns the tenant again, so a retry after a failed second step ends the
 * count too.
 */
@ApplicationScoped
public class ExecutionStore {

    public static final String NOTIFICATIONS = "execfarm:events";

    /**
     * KEYS: events, event ids, execution. ARGV: identity, event, retention in s, channel, request
     * id, "1" for a result. Returns the event's index, or -1 when it was there already, and for a
     * result the execution's tenant (when known).
     */
    private static final String APPEND_ONCE = """
            local index = -1
            if redis.call('SADD', KEYS[2], ARGV[1]) == 1 then
              index = redis.call('RPUSH', KEYS[1], ARGV[2]) - 1
              redis.call('EXPIRE', KEYS[1], ARGV[3])
              redis.call('EXPIRE', KEYS[2], ARGV[3])
              redis.call('PUBLISH', ARGV[4], ARGV[5] .. ' ' .. index)
            end
            if ARGV[6] == '1' then
              return {index, redis.call('HGET', KEYS[3], 'tenant')}
            end
            return {index}
            """;
    /** KEYS: execution. ARGV: retention in s, then field, value pairs. */
    private static final String CREATE = """
            redis.call('HSET', KEYS[1], unpack(ARGV, 2))
            redis.call('EXPIRE', KEYS[1], ARGV[1])
            return 1
            """;

    /**
     * KEYS: execution. ARGV: retention in s, the tenant, then field, value pairs. 1 when the record
     * is the tenant's (made now, or there already), 0 when another tenant's execution has that id.
     */
    private static final String CREATE_FOR_TENANT = """
            local owner = redis.call('HGET', KEYS[1], 'tenant')
            if owner then
              return owner == ARGV[2] and 1 or 0
            end
            redis.call('HSET', KEYS[1], unpack(ARGV, 3))
            redis.call('EXPIRE', KEYS[1], ARGV[1])
            return 1
            """;

    private final ReactiveRedisDataSource redis;
    private final InFlight inFlight;
    private final ReactiveHashCommands<String, String, String> hashes;
    private final ReactiveListCommands<String, String> lists;
    private final long retentionSeconds;

    public ExecutionStore(ReactiveRedisDataSource redis, InFlight inFlight, DispatcherConfig config) {
        this.redis = redis;
        this.inFlight = inFlight;
        this.hashes = redis.hash(String.class);
        this.lists = redis.list(String.class);
        this.retentionSeconds = config.retention().toSeconds();
    }

    public Uni<Void> create(ExecutionRecord record) {
        List<String> args = new ArrayList<>(List.of(CREATE, "1", executionKey(record.id()), Long.toString(retentionSeconds)));
        args.addAll(fields(record));
        return redis.execute("EVAL", args.toArray(String[]::new)).replaceWithVoid();
    }

    /**
     * Records an execution whose id its tenant chose (a Kafka client's): false, and nothing
     * written, when another tenant's execution holds that id; true when it is the tenant's, new or
     * recorded before (the same request forwarded again).
     */
    public Uni<Boolean> createForTenant(ExecutionRecord record) {
        List<String> args = new ArrayList<>(List.of(CREATE_FOR_TENANT, "1", executionKey(record.id()),
                Long.toString(retentionSeconds), record.tenant()));
        args.addAll(fields(record));
        return redis.execute("EVAL", args.toArray(String[]::new)).map(reply -> reply.toInteger() == 1);
    }

    private static List<String> fields(ExecutionRecord record) {
        Map<String, String> fields = new HashMap<>(Map.of(
                "tenant", record.tenant(),
                "runtime", record.runtime(),
                "timeoutMs", Long.toString(record.timeoutMs()),
                "submittedAt", record.submittedAt().toString()));
        if (record.session() != null) {
            fields.put("session", record.session());
        }
        if (record.traceparent() != null) {
            fields.put("traceparent", record.traceparent());
        }
        List<String> pairs = new ArrayList<>();
        fields.forEach((field, value) -> {
            pairs.add(field);
            pairs.add(value);
        });
        return pairs;
    }

    /** Forgets an execution that never made it to Kafka. */
    public Uni<Void> delete(String id) {
        return redis.key().del(executionKey(id)).replaceWithVoid();
    }

    /** The execution, or null when unknown (never submitted here, or expired). */
    public Uni<ExecutionRecord> find(String id) {
        return hashes.hgetall(executionKey(id)).map(fields -> fields == null || fields.isEmpty() ? null
                : new ExecutionRecord(id, fields.get("tenant"), fields.get("runtime"), fields.get("session"),
                        Long.parseLong(fields.get("timeoutMs")), Instant.parse(fields.get("submittedAt")),
                        fields.get("traceparent")));
    }

    /**
     * Appends an event unless an event of the same identity is already there; a result also ends
     * the execution's count in flight. Returns the event's index, or -1 when it was there already.
     */
    public Uni<Long> appendOnce(String requestId, String identity, String json, boolean result) {
        return redis.execute("EVAL", APPEND_ONCE, "3", eventsKey(requestId), RedisKeys.ofRequest("eventids", requestId),
                        executionKey(requestId), identity, json, Long.toString(retentionSeconds), NOTIFICATIONS,
                        requestId, result ? "1" : "0")
                .chain(reply -> {
                    long index = reply.get(0).toLong();
                    Response tenant = reply.size() > 1 ? reply.get(1) : null;
                    if (tenant == null) {
                        return Uni.createFrom().item(index);
                    }
                    return inFlight.release(tenant.toString(), requestId).replaceWith(index);
                });
    }

    /** Events from index {@code from} on, in order. */
    public Uni<List<String>> events(String requestId, long from) {
        return lists.lrange(eventsKey(requestId), from, -1);
    }

    private static String executionKey(String id) {
        return RedisKeys.ofRequest("execution", id);
    }

    private static String eventsKey(String id) {
        return RedisKeys.ofRequest("events", id);
    }
}
