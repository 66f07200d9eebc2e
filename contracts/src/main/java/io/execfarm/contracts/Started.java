package io.execfarm.contracts;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.Objects;

/**
 * A worker took the request and it is still running; {@code queuedMs} is the time from submission
 * to its start. Sent only for a run that outlasts its first output tick or has output before it: a
 * shorter one is answered by its {@link Result} alone, which carries the same worker and time.
 */
@JsonPropertyOrder({"v", "type", "requestId", "workerId", "queuedMs"})
public record Started(String requestId, String workerId, long queuedMs) implements ExecutionEvent {

    public static final String TYPE = "started";

    public Started {
        Objects.requireNonNull(requestId, "requestId");
        Objects.requireNonNull(workerId, "workerId");
    }

    @Override
    public String type() {
        return TYPE;
    }
}
