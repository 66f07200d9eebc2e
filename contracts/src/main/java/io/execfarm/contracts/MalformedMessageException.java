package io.execfarm.contracts;

import java.util.Optional;

/**
 * A record that is not a valid v1 message. Carries a machine-readable {@link Reason}, a sentence a
 * person understands, and whatever of the request id and reply topic could still be read, so the
 * sender can be told even when the rest of the message is unusable.
 */
public final class MalformedMessageException extends Exception {

    public enum Reason {
        NOT_UTF8, NOT_JSON, NOT_AN_OBJECT, UNSUPPORTED_VERSION, MISSING_FIELD, WRONG_TYPE,
        INVALID_VALUE, UNKNOWN_FIELD, TOO_LARGE
    }

    private final Reason reason;
    private final String requestId;
    private final String replyTo;

    MalformedMessageException(Reason reason, String message) {
        this(reason, message, null, null);
    }

    private MalformedMessageException(Reason reason, String message, String requestId, String replyTo) {
        super(message, null, false, false);
        this.reason = reason;
        this.requestId = requestId;
        this.replyTo = replyTo;
    }

    MalformedMessageException withSender(String requestId, String replyTo) {
        return new MalformedMessageException(reason, getMessage(), requestId, replyTo);
    }

    public Reason reason() {
        return reason;
    }

    /** The request id, when the message had a readable one. */
    public Optional<String> requestId() {
        return Optional.ofNullable(requestId);
    }

    /** Where the sender wants replies, when that could be read (the default topic if it was absent). */
    public Optional<String> replyTo() {
        return Optional.ofNullable(replyTo);
    }

    /** Whether the sender can be sent a {@code rejected} result. */
    public boolean canReply() {
        return requestId != null && replyTo != null;
    }
}
