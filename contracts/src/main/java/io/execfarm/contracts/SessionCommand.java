package io.execfarm.contracts;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * A Kafka tenant's command about one of its sessions, on its ingress topic beside its requests and
 * keyed by the session's id: the dispatcher's forwarder takes it before the session's next request
 * on the same partition, so a client may send requests right behind it. It is answered like a
 * request, by one {@link Result} keyed by the command's {@code id} on its {@code replyTo}:
 * {@code ok}, or {@code rejected} with the reason.
 */
public sealed interface SessionCommand permits OpenSession, CloseSession {

    /** The command's id: its answer's {@code requestId}. */
    String id();

    String session();

    String replyTo();

    @JsonProperty("type")
    String type();

    @JsonProperty("v")
    default int v() {
        return Protocol.VERSION;
    }

    /** Checks what every command holds. */
    static void requireValid(String id, String session, String replyTo) {
        if (!WireNames.isId(id)) {
            throw new IllegalArgumentException("invalid id: " + id);
        }
        if (!WireNames.isId(session)) {
            throw new IllegalArgumentException("invalid session: " + session);
        }
        if (replyTo == null || !WireNames.TOPIC.matcher(replyTo).matches() || Topics.isFarmOwned(replyTo)) {
            throw new IllegalArgumentException("invalid replyTo: " + replyTo);
        }
    }
}
