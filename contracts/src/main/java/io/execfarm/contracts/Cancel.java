package io.execfarm.contracts;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/** Stop a request: before it starts, it never runs; while it runs, it ends as cancelled. */
@JsonPropertyOrder({"v", "type", "requestId"})
public record Cancel(String requestId) implements ControlMessage {

    public static final String TYPE = "cancel";

    public Cancel {
        if (!WireNames.isId(requestId)) {
            throw new IllegalArgumentException("invalid requestId: " + requestId);
        }
    }

    @Override
    public String type() {
        return TYPE;
    }
}
