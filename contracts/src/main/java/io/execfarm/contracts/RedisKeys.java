package io.execfarm.contracts;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Redis keys that more than one service reads or writes. */
public final class RedisKeys {

    private RedisKeys() {
    }

    /** A finished request's {@link Result}, as encoded by {@link WireCodec}; written by the worker. */
    public static String result(String requestId) {
        return "execfarm:result:" + requestId;
    }

    /**
     * A tenant's executions in flight: a sorted set of request ids scored by the time after which
     * each stops counting. The dispatcher adds to it when it admits a request; whichever learns of
     * the result first removes it (the dispatcher storing it, the worker publishing it).
     */
    public static final String IN_FLIGHT_PREFIX = "execfarm:inflight:";

    public static String inFlight(String tenant) {
        return IN_FLIGHT_PREFIX + tenant;
    }

    /**
     * API keys made at run time (a tenant added to a running farm), beside the dispatcher's
     * configured ones: a hash from each key's {@link #apiKeyField digest} to its tenant. The key
     * itself is stored nowhere.
     */
    public static final String API_KEYS = "execfarm:apikeys";

    /**
     * Tenants being or having been removed (a set of names): the dispatchers drop what is left in
     * their ingress topics instead of forwarding it, so that removal can delete the topics once
     * the dispatchers are past it. Adding the tenant again takes it out.
     */
    public static final String REMOVED_TENANTS = "execfarm:tenants:removed";

    /** An API key's field in {@link #API_KEYS}: its SHA-256, in hex. */
    public static String apiKeyField(String apiKey) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(apiKey.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java has SHA-256", e);
        }
    }

    /** Present when the request was cancelled; set by whoever learns of the cancel first. */
    public static String cancel(String requestId) {
        return "execfarm:cancel:" + requestId;
    }

    /**
     * A session's record, a hash of {@link SessionRecord.Field}s: created by the dispatcher, its
     * counters kept by the worker that runs the session. It expires when the session does.
     */
    public static String session(String sessionId) {
        return "execfarm:session:" + sessionId;
    }

    /**
     * A session's history: the code of every request that ran to completion in it, in order, from
     * which any worker can rebuild the session. Expires with {@link #session}.
     */
    public static String sessionHistory(String sessionId) {
        return "execfarm:session:" + sessionId + ":history";
    }
}
