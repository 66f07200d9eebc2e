package io.execfarm.worker.runtime;

import io.execfarm.contracts.CollectedFile;
import io.execfarm.contracts.Result;
import java.util.List;

/**
 * How one execution on a process ended.
 *
 * @param value      the runtime's text/plain rendering of the last value, or null
 * @param error      what went wrong, or null when the status is ok
 * @param evalMicros the driver's own evaluation time; 0 when the driver did not report one
 * @param taskLimitHit whether the process's control group refused a fork or clone at its task limit
 *                   during the execution
 * @param files      what the request collected, each with its content or why not
 */
public record ExecutionOutcome(Result.Status status, String value, Result.ErrorInfo error, boolean truncated,
        long evalMicros, boolean taskLimitHit, List<CollectedFile> files) {

    public ExecutionOutcome {
        files = List.copyOf(files);
    }

    public ExecutionOutcome(Result.Status status, String value, Result.ErrorInfo error, boolean truncated,
            long evalMicros, boolean taskLimitHit) {
        this(status, value, error, truncated, evalMicros, taskLimitHit, List.of());
    }

    public ExecutionOutcome(Result.Status status, String value, Result.ErrorInfo error, boolean truncated,
            long evalMicros) {
        this(status, value, error, truncated, evalMicros, false);
    }

    ExecutionOutcome withFiles(List<CollectedFile> files) {
        return new ExecutionOutcome(status, value, error, truncated, evalMicros, taskLimitHit, files);
    }

    /** The error type of a request whose process the kernel killed at its memory limit (status crashed). */
    public static final String MEMORY_LIMIT_EXCEEDED = "MemoryLimitExceeded";

    static ExecutionOutcome failure(Result.Status status, String type, String message, boolean truncated) {
        return new ExecutionOutcome(status, null, new Result.ErrorInfo(type, message, null), truncated, 0);
    }

    /** A request cancelled before it reached a process. */
    public static ExecutionOutcome cancelledBeforeStart() {
        return failure(Result.Status.CANCELLED, "Cancelled", "cancelled before it started", false);
    }

    /** Whether the process that produced this outcome may run another request. */
    public boolean processSurvived() {
        return status == Result.Status.OK || status == Result.Status.ERROR;
    }
}
