package io.execfarm.contracts;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/**
 * End session {@code session}: its record, history and files go, and its pinned process is retired
 * when a worker next looks. One that does not exist, or is another tenant's, is refused as
 * {@code SessionNotFound}, the same answer for both.
 */
@JsonPropertyOrder({"v", "type", "id", "session", "replyTo"})
public record CloseSession(String id, String session, String replyTo) implements SessionCommand {

    public static final String TYPE = "closeSession";

    public CloseSession {
        SessionCommand.requireValid(id, session, replyTo);
    }

    @Override
    public String type() {
        return TYPE;
    }
}
