package io.execfarm.contracts;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Objects;

/**
 * A chunk of the user code's output. {@code seq} numbers a request's chunks and {@link Display}
 * bundles from 0 without gaps, across both streams, so a reader can rebuild the exact interleaving.
 */
@JsonPropertyOrder({"v", "type", "requestId", "seq", "stream", "text"})
public record Output(String requestId, long seq, Stream stream, String text) implements ExecutionEvent {

    public static final String TYPE = "output";

    public enum Stream {
        STDOUT, STDERR;

        @JsonValue
        public String wireName() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    public Output {
        Objects.requireNonNull(requestId, "requestId");
        Objects.requireNonNull(stream, "stream");
        Objects.requireNonNull(text, "text");
        if (seq < 0) {
            throw new IllegalArgumentException("seq must be >= 0: " + seq);
        }
    }

    @Override
    public String type() {
        return TYPE;
    }
}
