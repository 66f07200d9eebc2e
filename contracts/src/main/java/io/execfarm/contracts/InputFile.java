package io.execfarm.contracts;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.Base64;
import java.util.List;
import java.util.Objects;

/**
 * A file a request brings along, written into the working directory of the process that runs it
 * before its code starts ({@code files} in a request). On the wire its bytes are base64; a client
 * may send a text file as {@code text} instead, which the codec turns into the same bytes (UTF-8).
 *
 * @param path   where it goes, relative to the working directory ({@link WirePaths#FILE})
 * @param base64 its content, base64 (RFC 4648, with padding)
 */
@JsonPropertyOrder({"path", "base64"})
public record InputFile(String path, String base64) {

    /** Files one request may bring. */
    public static final int MAX_FILES = 100;
    /**
     * Bytes all of one request's files may hold together: inline in the Kafka record (as base64,
     * 4/3 of this) beside up to 1 MiB of code, below the broker's 8 MiB record limit.
     */
    public static final int MAX_TOTAL_BYTES = 2 * 1024 * 1024;

    public InputFile {
        if (!WirePaths.isFile(path)) {
            throw new IllegalArgumentException("invalid file path: " + path);
        }
        Objects.requireNonNull(base64, "base64");
        Base64.getDecoder().decode(base64);
    }

    public static InputFile of(String path, byte[] content) {
        return new InputFile(path, Base64.getEncoder().encodeToString(content));
    }

    @JsonIgnore
    public byte[] bytes() {
        return Base64.getDecoder().decode(base64);
    }

    /** The decoded size of {@code files} together. */
    public static long totalBytes(List<InputFile> files) {
        return files.stream().mapToLong(file -> decodedLength(file.base64())).sum();
    }

    private static long decodedLength(String base64) {
        int padding = base64.endsWith("==") ? 2 : base64.endsWith("=") ? 1 : 0;
        return (long) base64.length() / 4 * 3 - padding;
    }
}
