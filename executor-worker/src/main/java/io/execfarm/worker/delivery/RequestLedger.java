package io.execfarm.worker.delivery;

import io.execfarm.contracts.MalformedMessageException;
import io.execfarm.contracts.RedisKeys;
import io.execfarm.contracts.Result;
import io.execfarm.contracts.WireCodec;
import io.execfarm.worker.config.WorkerConfig;
import io.quarkus.redis.datasource.RedisDataSource;
import io.quarkus.redis.datasource.value.ValueCommands;
import io.vertx.mutiny.redis.client.Response;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * What Redis knows about each request, so delivery stays at-least-once without running a request
 * twice: how often it was delivered, which delivery holds it now, its result once finished (and
 * whether that was published), and whether it was cancelled. Each side of a run is one script, one
 * round trip: {@link #deliver} before, {@link #finish} after (the result itself is stored on its
 * own, before it is published). Blocking; used from worker threads. Writes that must outlive a Redis
 * failover go through {@link ReplicatedWrites}.
 *
 * <p>A claim names its holder, one delivery's token: only the holder renews or releases it, so a
 * delivery whose claim lapsed (a stalled worker) cannot end the claim of the delivery that took
 * the request over.
 *
 * <p>Keys, all with a TTL and all in the request's slot ({@link RedisKeys#ofRequest}):
 * {@code execfarm:attempts:{<id>}}, {@code execfarm:claim:{<id>}}, {@code execfarm:takeover:{<id>}},
 * {@code execfarm:result:{<id>}}, {@code execfarm:published:{<id>}}, {@code execfarm:cancel:{<id>}}.
 */
@ApplicationScoped
public class RequestLedger {

    private static final Logger LOG = Logger.getLogger(RequestLedger.class);

    /**
     * KEYS: attempts, claim, result, published, cancel, takeover. ARGV: holder, claim TTL in ms,
     * result TTL in s, how this delivery is counted ("+" counts it here, a number is the broker's
     * count of it, "" does not count it), takeover grace in ms. Returns {attempt, 0} when
     * the request is not this delivery's (yet), else {attempt, 1, published, cancelled, result or nil}.
     *
     * <p>A claim that lapsed (no result, delivered before, not released) is taken over only after
     * the same delivery found it lapsed for the grace: Redis's clock runs on while Redis is frozen,
     * so every claim lapses at once when it comes back, and the grace lets a holder that is alive
     * take its claim back first ({@link #RENEW}).
     */
    private static final String DELIVER = """
            local attempt = 0
            if ARGV[4] == '+' then
              attempt = redis.call('INCR', KEYS[1])
              redis.call('EXPIRE', KEYS[1], ARGV[3])
            elseif ARGV[4] ~= '' then
              attempt = tonumber(ARGV[4])
              if tonumber(redis.call('GET', KEYS[1]) or '0') < attempt then
                redis.call('SET', KEYS[1], ARGV[4], 'EX', ARGV[3])
              end
            end
            local holder = redis.call('GET', KEYS[2])
            if holder and holder ~= ARGV[1] then
              return {attempt, 0}
            end
            if not holder and redis.call('EXISTS', KEYS[3]) == 0 and tonumber(redis.call('GET', KEYS[1]) or '0') > 1 then
              local takeover = redis.call('GET', KEYS[6])
              if takeover ~= 'released' then
                if not takeover then
                  redis.call('SET', KEYS[6], ARGV[1], 'PX', 2 * tonumber(ARGV[5]))
                  return {attempt, 0}
                end
                if takeover ~= ARGV[1] or redis.call('PTTL', KEYS[6]) > tonumber(ARGV[5]) then
                  return {attempt, 0}
                end
              end
            end
            redis.call('DEL', KEYS[6])
            redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
            return {attempt, 1, redis.call('EXISTS', KEYS[4]), redis.call('EXISTS', KEYS[5]), redis.call('GET', KEYS[3])}
            """;
    /**
     * KEYS: claim, published, takeover. ARGV: holder, result TTL in s, "1" to mark the result
     * published, claim TTL in ms. A claim released without a result may be taken at once.
     */
    private static final String FINISH = """
            if ARGV[3] == '1' then
              redis.call('SET', KEYS[2], '1', 'EX', ARGV[2])
            end
            if redis.call('GET', KEYS[1]) == ARGV[1] then
              redis.call('DEL', KEYS[1])
              if ARGV[3] ~= '1' then
                redis.call('SET', KEYS[3], 'released', 'PX', ARGV[4])
              end
            end
            return 1
            """;
    /**
     * KEYS: claim, result, takeover, published. ARGV: holder, claim TTL in ms. Extends the holder's
     * claim; a claim that lapsed and that no other delivery took (nor answered) is taken back. A
     * claim released by {@link #FINISH} is not: a renewal sent before the release may arrive after
     * it. 1 when the holder holds the claim now, else 0.
     */
    private static final String RENEW = """
            local holder = redis.call('GET', KEYS[1])
            if holder == ARGV[1] then
              return redis.call('PEXPIRE', KEYS[1], ARGV[2])
            end
            if not holder and redis.call('EXISTS', KEYS[2]) == 0 and redis.call('EXISTS', KEYS[4]) == 0
                and redis.call('GET', KEYS[3]) ~= 'released' then
              redis.call('DEL', KEYS[3])
              redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
              return 1
            end
            return 0
            """;

    /**
     * One delivery of a request as Redis saw it when the delivery began.
     *
     * @param attempt   this delivery's number, 1 for the first (0 for a repeated claim attempt)
     * @param claimed   whether this delivery holds the request; the rest is known only then
     * @param result    the request's stored result, when it finished before
     * @param published whether that result was published
     * @param cancelled whether the request was cancelled
     */
    public record Delivery(int attempt, boolean claimed, Optional<Result> result, boolean published,
            boolean cancelled) {
    }

    private final RedisDataSource redis;
    private final ReplicatedWrites writes;
    private final ValueCommands<String, String> strings;
    private final WireCodec codec;
    private final Duration resultTtl;

    public RequestLedger(RedisDataSource redis, ReplicatedWrites writes, WireCodec codec, WorkerConfig config) {
        this.redis = redis;
        this.writes = writes;
        this.strings = redis.value(String.class);
        this.codec = codec;
        this.resultTtl = config.resultTtl();
    }

    /**
     * Counts a delivery of the request and claims it for {@code holder} unless another holds it
     * (a holder may claim again: a retried call whose first answer was lost); when claimed, also
     * says whether it was answered, published or cancelled before.
     */
    public Delivery deliver(String requestId, String holder, Duration claimTtl) {
        return deliver(requestId, holder, claimTtl, "+");
    }

    /**
     * As {@link #deliver(String, String, Duration)}, for a delivery the broker counted already (a
     * share group's): its count is this delivery's number, and Redis keeps the highest seen.
     */
    public Delivery deliver(String requestId, String holder, Duration claimTtl, int deliveryCount) {
        return deliver(requestId, holder, claimTtl, Integer.toString(deliveryCount));
    }

    /** Tries the claim again, for a delivery already counted that found it held by another or lapsed. */
    public Delivery claimAgain(String requestId, String holder, Duration claimTtl) {
        return deliver(requestId, holder, claimTtl, "");
    }

    private Delivery deliver(String requestId, String holder, Duration claimTtl, String counting) {
        Response reply = writes.eval(DELIVER, List.of(RedisKeys.ofRequest("attempts", requestId), claimKey(requestId),
                RedisKeys.result(requestId), publishedKey(requestId), RedisKeys.cancel(requestId), takeoverKey(requestId)),
                List.of(holder, Long.toString(claimTtl.toMillis()), Long.toString(resultTtl.toSeconds()), counting,
                        Long.toString(takeoverGrace(claimTtl).toMillis())));
        int attempt = reply.get(0).toInteger();
        if (reply.get(1).toInteger() == 0) {
            return new Delivery(attempt, false, Optional.empty(), false, false);
        }
        Response stored = reply.size() > 4 ? reply.get(4) : null;
        return new Delivery(attempt, true, stored == null ? Optional.empty() : decode(requestId, stored.toBytes()),
                reply.get(2).toInteger() == 1, reply.get(3).toInteger() == 1);
    }

    public void storeResult(Result result) {
        writes.setex(RedisKeys.result(result.requestId()), resultTtl.toSeconds(), codec.encode(result));
    }

    /** Marks the result published, when it is, and releases {@code holder}'s claim. */
    public void finish(String requestId, String holder, boolean published, Duration claimTtl) {
        writes.eval(FINISH, List.of(claimKey(requestId), publishedKey(requestId), takeoverKey(requestId)),
                List.of(holder, Long.toString(resultTtl.toSeconds()), published ? "1" : "0", Long.toString(claimTtl.toMillis())));
    }

    /**
     * Ends the request's count among its tenant's executions in flight ({@link RedisKeys#inFlight}),
     * where the dispatcher counted it: the dispatcher sees no result sent to a tenant's own reply
     * topic, so the worker that answers ends it.
     */
    public void leaveInFlight(String tenant, String requestId) {
        redis.sortedSet(String.class).zrem(RedisKeys.inFlight(tenant), requestId);
    }

    /**
     * Extends {@code holder}'s claim, or takes it back when it lapsed and nobody took it or
     * answered the request meanwhile; false when another delivery has the request now.
     */
    public boolean renew(String requestId, String holder, Duration ttl) {
        return writes.eval(RENEW, List.of(claimKey(requestId), RedisKeys.result(requestId), takeoverKey(requestId),
                publishedKey(requestId)), List.of(holder, Long.toString(ttl.toMillis()))).toInteger() == 1;
    }

    /**
     * How long a delivery waits, after finding a claim lapsed, before it takes the request over:
     * longer than a holder's renewal period ({@link ClaimKeeper}), so a live holder renews first.
     */
    public static Duration takeoverGrace(Duration claimTtl) {
        return claimTtl.dividedBy(2);
    }

    /** Whether the request's result (or the error result of its dead letter) was published. */
    public boolean published(String requestId) {
        return redis.key().exists(publishedKey(requestId));
    }

    public void markCancelled(String requestId) {
        strings.setex(RedisKeys.cancel(requestId), resultTtl.toSeconds(), "1");
    }

    private Optional<Result> decode(String requestId, byte[] stored) {
        try {
            return Optional.of((Result) codec.decodeEvent(stored));
        } catch (MalformedMessageException | ClassCastException e) {
            LOG.warnf("ignoring an unreadable stored result for %s: %s", requestId, e.getMessage());
            return Optional.empty();
        }
    }

    private static String claimKey(String requestId) {
        return RedisKeys.ofRequest("claim", requestId);
    }

    private static String takeoverKey(String requestId) {
        return RedisKeys.ofRequest("takeover", requestId);
    }

    private static String publishedKey(String requestId) {
        return RedisKeys.ofRequest("published", requestId);
    }
}
