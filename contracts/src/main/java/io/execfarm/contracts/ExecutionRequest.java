package io.execfarm.contracts;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * A request to run code, as published on {@code execfarm.requests.<runtime>}.
 *
 * @param session     the session whose namespace the code runs in, or null for a fresh namespace
 * @param submittedAt when the client submitted it, or null when the client did not say
 * @param startBy     when its sender stops waiting for it to start, or null for never: a worker that
 *                    takes it later answers it {@code expired} without running it (absent from the
 *                    JSON when null)
 * @param files       files written into the working directory before the code runs (absent from
 *                    the JSON when there are none, as a reader from before files knows no such field)
 * @param collect     globs of the files to collect from the working directory after the code ran,
 *                    into the result (absent from the JSON when there are none)
 */
@JsonPropertyOrder({"v", "id", "runtime", "code", "session", "tenant", "timeoutMs", "replyTo", "limits", "submittedAt",
        "startBy", "files", "collect"})
@JsonInclude(JsonInclude.Include.ALWAYS)
public record ExecutionRequest(
        String id,
        String runtime,
        String code,
        String session,
        String tenant,
        long timeoutMs,
        String replyTo,
        Limits limits,
        Instant submittedAt,
        @JsonInclude(JsonInclude.Include.NON_NULL) Instant startBy,
        @JsonInclude(JsonInclude.Include.NON_EMPTY) List<InputFile> files,
        @JsonInclude(JsonInclude.Include.NON_EMPTY) List<String> collect) {

    public static final String DEFAULT_TENANT = "default";
    public static final long DEFAULT_TIMEOUT_MS = 30_000;
    public static final long MAX_TIMEOUT_MS = 3_600_000;

    public ExecutionRequest {
        require(WireNames.isId(id), "id", id);
        require(WireNames.isRuntime(runtime), "runtime", runtime);
        Objects.requireNonNull(code, "code");
        require(session == null || WireNames.isId(session), "session", session);
        require(tenant != null && WireNames.TENANT.matcher(tenant).matches(), "tenant", tenant);
        require(timeoutMs >= 1 && timeoutMs <= MAX_TIMEOUT_MS, "timeoutMs", timeoutMs);
        require(replyTo != null && WireNames.TOPIC.matcher(replyTo).matches() && !Topics.isFarmOwned(replyTo),
                "replyTo", replyTo);
        Objects.requireNonNull(limits, "limits");
        files = files == null ? List.of() : List.copyOf(files);
        collect = collect == null ? List.of() : List.copyOf(collect);
        require(files.size() <= InputFile.MAX_FILES, "files", files.size() + " files");
        require(InputFile.totalBytes(files) <= InputFile.MAX_TOTAL_BYTES, "files", InputFile.totalBytes(files) + " bytes");
        require(files.stream().map(InputFile::path).distinct().count() == files.size(), "files", "a path twice");
        require(collect.size() <= WirePaths.MAX_GLOBS && collect.stream().allMatch(WirePaths::isGlob), "collect", collect);
    }

    /** A request that brings no files and collects none. */
    public ExecutionRequest(String id, String runtime, String code, String session, String tenant, long timeoutMs,
            String replyTo, Limits limits, Instant submittedAt, Instant startBy) {
        this(id, runtime, code, session, tenant, timeoutMs, replyTo, limits, submittedAt, startBy, List.of(), List.of());
    }

    /** A request with every optional field at its default. */
    public static ExecutionRequest of(String id, String runtime, String code) {
        return new ExecutionRequest(id, runtime, code, null, DEFAULT_TENANT, DEFAULT_TIMEOUT_MS,
                Topics.REPLIES, Limits.DEFAULT, null, null);
    }

    /** Whether a worker taking it at {@code now} is too late to run it. */
    public boolean expiredAt(Instant now) {
        return startBy != null && now.isAfter(startBy);
    }

    @JsonProperty("v")
    public int v() {
        return Protocol.VERSION;
    }

    /** The Kafka key: the session when there is one, so one session's requests stay in order. */
    public String kafkaKey() {
        return session != null ? session : id;
    }

    private static void require(boolean ok, String field, Object value) {
        if (!ok) {
            throw new IllegalArgumentException("invalid " + field + ": " + value);
        }
    }
}
