package io.execfarm.contracts;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * Something the code displayed, as a MIME bundle (Jupyter's {@code display_data}): one
 * representation per media type, pictures in base64, text as it is. {@code seq} shares its
 * numbering with the request's {@link Output} chunks, so a reader places it among them; every
 * bundle has {@code text/plain}, which a reader that wants only text shows.
 */
@JsonPropertyOrder({"v", "type", "requestId", "seq", "data"})
public record Display(String requestId, long seq, Map<String, String> data) implements ExecutionEvent {

    public static final String TYPE = "display";
    public static final String TEXT = "text/plain";
    /** The media types a bundle may carry; base64 for the images. */
    public static final Set<String> MEDIA_TYPES = Set.of("image/png", "image/jpeg", "image/svg+xml", "text/html",
            "text/markdown", "text/latex", "application/json", TEXT);
    public static final Set<String> BINARY = Set.of("image/png", "image/jpeg");

    public Display {
        Objects.requireNonNull(requestId, "requestId");
        if (seq < 0) {
            throw new IllegalArgumentException("seq must be >= 0: " + seq);
        }
        data = new TreeMap<>(data);
        if (!data.containsKey(TEXT)) {
            throw new IllegalArgumentException("a display bundle must have " + TEXT);
        }
        for (String type : data.keySet()) {
            if (!MEDIA_TYPES.contains(type)) {
                throw new IllegalArgumentException("media type " + type + " is not one of " + MEDIA_TYPES);
            }
        }
        data = java.util.Collections.unmodifiableMap(data);
    }

    @Override
    public String type() {
        return TYPE;
    }
}
