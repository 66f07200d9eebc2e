package io.execfarm.contracts;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * The last event of every request.
 *
 * @param value     the runtime's own text/plain rendering of the last expression, or null
 * @param error     what went wrong, or null when {@code status} is {@link Status#OK}
 * @param truncated whether output past the request's limit was dropped
 * @param attempt   1 for the first execution; higher when a redelivery was answered
 * @param traceId   the OpenTelemetry trace the execution ran in (32 hex digits), where tracing is on;
 *                  absent from the JSON otherwise
 * @param files     the files the request asked to collect, each with its content or why it has none;
 *                  absent from the JSON when it asked for none
 */
@JsonPropertyOrder({"v", "type", "requestId", "status", "value", "error", "truncated", "timings", "workerId", "attempt",
        "traceId", "files"})
@JsonInclude(JsonInclude.Include.ALWAYS)
public record Result(
        String requestId,
        Status status,
        String value,
        ErrorInfo error,
        boolean truncated,
        Timings timings,
        String workerId,
        int attempt,
        @JsonInclude(JsonInclude.Include.NON_NULL) String traceId,
        @JsonInclude(JsonInclude.Include.NON_EMPTY) List<CollectedFile> files) implements ExecutionEvent {

    public static final String TYPE = "result";

    public enum Status {
        OK, ERROR, TIMEOUT, CANCELLED, REJECTED, CRASHED,
        /** Not run: a worker took it after its {@link ExecutionRequest#startBy}, when its sender had stopped waiting. */
        EXPIRED;

        @JsonValue
        public String wireName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** @param stacktrace a trimmed backtrace in the runtime's own words, or null */
    @JsonPropertyOrder({"type", "message", "stacktrace"})
    @JsonInclude(JsonInclude.Include.ALWAYS)
    public record ErrorInfo(String type, String message, String stacktrace) {
        public ErrorInfo {
            Objects.requireNonNull(type, "type");
            Objects.requireNonNull(message, "message");
        }
    }

    @JsonPropertyOrder({"queuedMs", "acquireMs", "execMs", "totalMs"})
    public record Timings(long queuedMs, long acquireMs, long execMs, long totalMs) {
        public static final Timings NONE = new Timings(0, 0, 0, 0);
    }

    public Result {
        Objects.requireNonNull(requestId, "requestId");
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(timings, "timings");
        Objects.requireNonNull(workerId, "workerId");
        if (attempt < 1) {
            throw new IllegalArgumentException("attempt must be >= 1: " + attempt);
        }
        files = files == null ? List.of() : List.copyOf(files);
    }

    /** A result that carries no files. */
    public Result(String requestId, Status status, String value, ErrorInfo error, boolean truncated, Timings timings,
            String workerId, int attempt, String traceId) {
        this(requestId, status, value, error, truncated, timings, workerId, attempt, traceId, List.of());
    }

    /** A result not (yet) tied to a trace. */
    public Result(String requestId, Status status, String value, ErrorInfo error, boolean truncated, Timings timings,
            String workerId, int attempt) {
        this(requestId, status, value, error, truncated, timings, workerId, attempt, null);
    }

    /** A request refused before it ran: bad input, unknown runtime, foreign session and so on. */
    public static Result rejected(String requestId, String workerId, String errorType, String message) {
        return new Result(requestId, Status.REJECTED, null, new ErrorInfo(errorType, message, null),
                false, Timings.NONE, workerId, 1);
    }

    /** The same result, as the answer to delivery number {@code attempt} of its request. */
    public Result withAttempt(int attempt) {
        return new Result(requestId, status, value, error, truncated, timings, workerId, attempt, traceId, files);
    }

    /** The same result, as run in trace {@code traceId} (null: none). */
    public Result withTraceId(String traceId) {
        return new Result(requestId, status, value, error, truncated, timings, workerId, attempt, traceId, files);
    }

    /** The same result, carrying {@code files}. */
    public Result withFiles(List<CollectedFile> files) {
        return new Result(requestId, status, value, error, truncated, timings, workerId, attempt, traceId, files);
    }

    @Override
    public String type() {
        return TYPE;
    }
}
