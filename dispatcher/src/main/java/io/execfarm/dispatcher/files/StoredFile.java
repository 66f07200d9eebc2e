package io.execfarm.dispatcher.files;

import com.fasterxml.jackson.annotation.JsonIgnore;
import java.time.Instant;

/**
 * A stored file as {@code /v1/files} shows it.
 *
 * @param name      its name: what an upload said, or the collected file's
 * @param sha256    of its content, hex
 * @param expiresAt when it is removed
 */
public record StoredFile(String id, @JsonIgnore String tenant, String name, long size, String sha256, String mediaType,
        Instant expiresAt) {
}
