package io.execfarm.worker.delivery;

import io.execfarm.contracts.MalformedMessageException;
import io.execfarm.contracts.RedisKeys;
import io.execfarm.contracts.Result;
import io.execfarm.contracts.WireCodec;
import io.execfarm.worker.config.WorkerConfig;
import io.quarkus.redis.datasource.RedisDataSource;
import io.quarkus.redis.datasource.keys.KeyCommands;
import io.quarkus.redis.datasource.value.SetArgs;
import io.quarkus.redis.datasource.value.ValueCommands;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.Collection;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * What Redis knows about each request, so delivery stays at-least-once without running a request
 * twice: how often it was delivered, which worker runs it now, its result once finished (and
 * whether that was published), and whether it was cancelled. Blocking; used from worker threads.
 *
 * <p>Keys, all with a TTL: {@code execfarm:attempts:<id>}, {@code execfarm:claim:<id>},
 * {@code execfarm:result:<id>}, {@code execfarm:published:<id>}, {@code execfarm:cancel:<id>}.
 */
@ApplicationScoped
public class RequestLedger {

    private static final Logger LOG = Logger.getLogger(RequestLedger.class);

    private final ValueCommands<String, String> strings;
    private final ValueCommands<String, byte[]> bytes;
    private final KeyCommands<String> keys;
    private final WireCodec codec;
    private final Duration resultTtl;

    public RequestLedger(RedisDataSource redis, WireCodec codec, WorkerConfig config) {
        this.strings = redis.value(String.class);
        this.bytes = redis.value(byte[].class);
        this.keys = redis.key();
        this.codec = codec;
        this.resultTtl = config.resultTtl();
    }

    /** Counts a delivery of the request; returns its number, 1 for the first. */
    public int countAttempt(String requestId) {
        String key = "execfarm:attempts:" + requestId;
        long attempt = strings.incr(key);
        keys.expire(key, resultTtl);
        return (int) attempt;
    }

    /**
     * Takes the request for {@code holder} (one delivery's token) unless another holds it; true when
     * taken, or already held by {@code holder} (a retried call whose first answer was lost).
     */
    public boolean claim(String requestId, String holder, Duration ttl) {
        String current = strings.setGet(claimKey(requestId), holder, new SetArgs().nx().px(ttl));
        return current == null || current.equals(holder);
    }

    /** Keeps this worker's claims alive while their requests run. */
    public void renewClaims(Collection<String> requestIds, Duration ttl) {
        for (String id : requestIds) {
            keys.pexpire(claimKey(id), ttl);
        }
    }

    public void releaseClaim(String requestId) {
        keys.del(claimKey(requestId));
    }

    public void storeResult(Result result) {
        bytes.setex(RedisKeys.result(result.requestId()), resultTtl.toSeconds(), codec.encode(result));
    }

    public Optional<Result> result(String requestId) {
        byte[] stored = bytes.get(RedisKeys.result(requestId));
        if (stored == null) {
            return Optional.empty();
        }
        try {
            return Optional.of((Result) codec.decodeEvent(stored));
        } catch (MalformedMessageException | ClassCastException e) {
            LOG.warnf("ignoring an unreadable stored result for %s: %s", requestId, e.getMessage());
            return Optional.empty();
        }
    }

    public void markPublished(String requestId) {
        strings.setex("execfarm:published:" + requestId, resultTtl.toSeconds(), "1");
    }

    public boolean isPublished(String requestId) {
        return keys.exists("execfarm:published:" + requestId);
    }

    public void markCancelled(String requestId) {
        strings.setex(RedisKeys.cancel(requestId), resultTtl.toSeconds(), "1");
    }

    public boolean isCancelled(String requestId) {
        return keys.exists(RedisKeys.cancel(requestId));
    }

    private static String claimKey(String requestId) {
        return "execfarm:claim:" + requestId;
    }
}
