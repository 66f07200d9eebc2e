package io.execfarm.contracts;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The farm's Redis keys, in one place.
 *
 * <p>Keys that one script or transaction uses together share a hash tag (the part in braces), so
 * that on a Redis Cluster they live in one slot: a request's keys are tagged with its id, a
 * session's with the session's id, a tenant's executions in flight with the tenant. Tags that many
 * different values take spread the keys over every slot. Nothing needs keys of two tags in one
 * step: where a request's result and its tenant's or session's keys change together, the two
 * writes are ordered so that failing between them is safe (see the callers).
 */
public final class RedisKeys {

    private RedisKeys() {
    }

    /**
     * A key of one request, tagged with its id: {@code execfarm:<kind>:{<id>}}. Ids, session ids
     * and tenants hold no braces ({@link WireNames}), so the whole value is the tag.
     */
    public static String ofRequest(String kind, String requestId) {
        return "execfarm:" + kind + ":{" + requestId + "}";
    }

    /** A finished request's {@link Result}, as encoded by {@link WireCodec}; written by the worker. */
    public static String result(String requestId) {
        return ofRequest("result", requestId);
    }

    /** Present when the request was cancelled; set by whoever learns of the cancel first. */
    public static String cancel(String requestId) {
        return ofRequest("cancel", requestId);
    }

    /**
     * A tenant's executions in flight: a sorted set of request ids scored by the time after which
     * each stops counting. The dispatcher adds to it when it admits a request; whichever learns of
     * the result first removes it (the dispatcher storing it, the worker publishing it), in a step
     * of its own after the result's: should that step fail, the id stops counting at its score.
     */
    public static final String IN_FLIGHT_PREFIX = "execfarm:inflight:";

    public static String inFlight(String tenant) {
        return IN_FLIGHT_PREFIX + "{" + tenant + "}";
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

    /**
     * A session's record, a hash of {@link SessionRecord.Field}s: created by the dispatcher, its
     * counters kept by the worker that runs the session. It expires when the session does.
     */
    public static String session(String sessionId) {
        return "execfarm:session:{" + sessionId + "}";
    }

    /**
     * A session's history: the code of every request that ran to completion in it, in order, from
     * which any worker can rebuild the session. Expires with {@link #session}, in its slot.
     */
    public static String sessionHistory(String sessionId) {
        return session(sessionId) + ":history";
    }

    /**
     * The ids of the requests whose code {@link #sessionHistory} holds, so that recording a
     * request again (its result was stored, its worker died before recording it) appends it once.
     * Expires with {@link #session}, in its slot.
     */
    public static String sessionRecorded(String sessionId) {
        return session(sessionId) + ":recorded";
    }

    /**
     * A session's files, a hash of path to content: uploaded through the dispatcher, written into
     * every process that holds the session before its requests run, so they survive the process, its
     * worker and a rebuild. Expires with {@link #session}, in its slot.
     */
    public static String sessionFiles(String sessionId) {
        return session(sessionId) + ":files";
    }

    /** What {@link #sessionFiles} holds, a hash of path to its description (JSON: size, sha256, uploadedAt). */
    public static String sessionFileMeta(String sessionId) {
        return session(sessionId) + ":filemeta";
    }

    /**
     * A stored file's description, a hash: its tenant (the only one who may read it or bring it to
     * a request), name, size, SHA-256 and media type. Uploaded through the dispatcher or collected by
     * a request; it expires with {@link #fileContent}, in its slot.
     */
    public static String fileMeta(String fileId) {
        return "execfarm:file:{" + fileId + "}";
    }

    /** A stored file's bytes. */
    public static String fileContent(String fileId) {
        return fileMeta(fileId) + ":content";
    }
}
