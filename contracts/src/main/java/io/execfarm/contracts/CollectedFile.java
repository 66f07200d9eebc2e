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
 * @param base64    its content, when it is small enough to travel in the result; else null
 * @param ref       where it is stored instead, when it is larger: a file id the dispatcher serves
 *                  ({@code GET /v1/files/{id}}, the request's tenant only) and a later request may
 *                  bring ({@code files[].ref}), for as long as results are kept; else null
 * @param error     why it was not collected ({@code FileTooLarge}, {@code NotARegularFile},
 *                  {@code TooManyFiles}, {@code CollectLimitExceeded}, {@code Unreadable}), with
 *                  the details after a colon; null when it was
 */
@JsonPropertyOrder({"path", "size", "sha256", "mediaType", "base64", "ref", "error"})
@JsonInclude(JsonInclude.Include.NON_NULL)
public record CollectedFile(String path, long size, String sha256, String mediaType, String base64, String ref,
        String error) {

    public CollectedFile {
        Objects.requireNonNull(path, "path");
        if (size < 0) {
            throw new IllegalArgumentException("size must be >= 0: " + size);
        }
        if ((base64 != null ? 1 : 0) + (ref != null ? 1 : 0) + (error != null ? 1 : 0) != 1) {
            throw new IllegalArgumentException("a collected file carries its content, a reference to it or an error");
        }
    }

    public static CollectedFile inline(String path, long size, String sha256, String base64) {
        return new CollectedFile(path, size, sha256, MediaTypes.of(path), base64, null, null);
    }

    public static CollectedFile refused(String path, String error) {
        return refused(path, 0, error);
    }

    public static CollectedFile refused(String path, long size, String error) {
        return new CollectedFile(path, size, null, MediaTypes.of(path), null, null, error);
    }

    /** The same file, stored as {@code ref} instead of carried inline. */
    public CollectedFile storedAs(String ref) {
        return new CollectedFile(path, size, sha256, mediaType, null, ref, null);
    }
}
