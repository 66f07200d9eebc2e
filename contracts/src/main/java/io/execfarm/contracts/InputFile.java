package io.execfarm.contracts;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.Base64;
import java.util.List;

/**
 * A file a request brings along, written into the working directory of the process that runs it
 * before its code starts ({@code files} in a request): its bytes inline (base64; a client may send
 * a text file as {@code text}, which the codec turns into the same bytes, UTF-8), or a reference
 * to a file stored beforehand ({@code ref}: uploaded to the dispatcher, or collected by an earlier
 * request), which the worker reads, as the request's tenant, before the run.
 *
 * @param path   where it goes, relative to the working directory ({@link WirePaths})
 * @param base64 its content, base64 (RFC 4648, with padding); null for a reference
 * @param ref    the stored file's id; null for a file inline
 */
@JsonPropertyOrder({"path", "base64", "ref"})
@JsonInclude(JsonInclude.Include.NON_NULL)
public record InputFile(String path, String base64, String ref) {

    /** Files one request may bring. */
    public static final int MAX_FILES = 100;
    /**
     * Bytes all of one request's inline files may hold together: in the Kafka record (as base64,
     * 4/3 of this) beside up to 1 MiB of code, below the broker's 8 MiB record limit. Larger files
     * are stored first and referenced.
     */
    public static final int MAX_TOTAL_BYTES = 2 * 1024 * 1024;

    public InputFile {
        if (!WirePaths.isFile(path)) {
            throw new IllegalArgumentException("invalid file path: " + path);
        }
        if ((base64 == null) == (ref == null)) {
            throw new IllegalArgumentException("a file is either inline or a reference: " + path);
        }
        if (base64 != null) {
            Base64.getDecoder().decode(base64);
        }
        if (ref != null && !WireNames.isId(ref)) {
            throw new IllegalArgumentException("invalid file reference: " + ref);
        }
    }

    public static InputFile of(String path, byte[] content) {
        return new InputFile(path, Base64.getEncoder().encodeToString(content), null);
    }

    public static InputFile stored(String path, String ref) {
        return new InputFile(path, null, ref);
    }

    @JsonIgnore
    public byte[] bytes() {
        return Base64.getDecoder().decode(base64);
    }

    /** The decoded size of the inline files of {@code files} together. */
    public static long totalBytes(List<InputFile> files) {
        return files.stream().filter(file -> file.base64() != null).mapToLong(file -> decodedLength(file.base64())).sum();
    }

    private static long decodedLength(String base64) {
        int padding = base64.endsWith("==") ? 2 : base64.endsWith("=") ? 1 : 0;
        return (long) base64.length() / 4 * 3 - padding;
    }
}
