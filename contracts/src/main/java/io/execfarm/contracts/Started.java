package io.execfarm.contracts;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.Objects;

/** A worker took the request; {@code queuedMs} is the time from submission to this point. */
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
