package io.execfarm.contracts;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.Objects;

/**
 * A file a request asked to collect ({@code collect}), as its result carries it: what the worker
 * read from the working directory after the code ran, or why it did not.
 *
 * @param path      relative to the working directory; for an error about a glob as a whole (too
 *                  many matches), the glob
 * @param size      its size in bytes; 0 when it was not read
 * @param sha256    the SHA-256 of its content in hex, computed by the worker; null when not read
 * @param mediaType guessed from its name, {@code application/octet-stream} when unknown
 * @param base64    its content; null when it was not read
 * @param error     why it was not collected ({@code FileTooLarge}, {@code NotARegularFile},
 *                  {@code TooManyFiles}, {@code CollectLimitExceeded}, {@code Unreadable}), with
 *                  the details after a colon; null when it was
 */
@JsonPropertyOrder({"path", "size", "sha256", "mediaType", "base64", "error"})
@JsonInclude(JsonInclude.Include.NON_NULL)
public record CollectedFile(String path, long size, String sha256, String mediaType, String base64, String error) {

    public CollectedFile {
        Objects.requireNonNull(path, "path");
        if (size < 0) {
            throw new IllegalArgumentException("size must be >= 0: " + size);
        }
        if ((base64 == null) == (error == null)) {
            throw new IllegalArgumentException("a collected file carries either its content or an error");
        }
    }

    public static CollectedFile refused(String path, String error) {
        return new CollectedFile(path, 0, null, MediaTypes.of(path), null, error);
    }
}
