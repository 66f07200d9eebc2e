package io.execfarm.worker.runtime;

import io.execfarm.contracts.CollectedFile;
import io.execfarm.contracts.Digests;
import io.execfarm.contracts.WirePaths;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * The files a driver sends back for one request, held to the request's {@link FileLimits} by the
 * worker's own count: a file over the size limit, one past the count or past the request's total
 * is listed with its error instead of its content, and the digest is the worker's, not the driver's.
 */
final class FileCollection {

    private final FileLimits limits;
    private final List<CollectedFile> files = new ArrayList<>();
    private long bytes;
    private boolean tooMany;

    FileCollection(FileLimits limits) {
        this.limits = limits;
    }

    /** A file frame: its content (base64) or the driver's reason for not sending it. */
    void add(String path, String base64, String error) {
        if (files.size() >= limits.maxFiles()) {
            if (!tooMany) {
                tooMany = true;
                files.add(CollectedFile.refused(path, "TooManyFiles: more than " + limits.maxFiles()
                        + " files matched; the rest were not collected"));
            }
            return;
        }
        // An error about a glob as a whole names the glob.
        if (!WirePaths.isFile(path) && !(error != null && WirePaths.isGlob(path))) {
            files.add(CollectedFile.refused("(invalid)", "Unreadable: the driver named no valid relative path"));
            return;
        }
        if (error != null || base64 == null) {
            files.add(CollectedFile.refused(path, error != null ? error : "Unreadable: no content"));
            return;
        }
        byte[] content;
        try {
            content = Base64.getDecoder().decode(base64);
        } catch (IllegalArgumentException e) {
            files.add(CollectedFile.refused(path, "Unreadable: its content was not base64"));
            return;
        }
        if (content.length > limits.maxFileBytes()) {
            files.add(CollectedFile.refused(path, content.length, "FileTooLarge: " + content.length
                    + " bytes, over the limit of " + limits.maxFileBytes() + " per file"));
            return;
        }
        if (bytes + content.length > limits.maxRequestBytes()) {
            files.add(CollectedFile.refused(path, content.length, "CollectLimitExceeded: the request's files would "
                    + "exceed " + limits.maxRequestBytes() + " bytes together"));
            return;
        }
        bytes += content.length;
        files.add(CollectedFile.inline(path, content.length, Digests.sha256(content), base64));
    }

    List<CollectedFile> files() {
        return List.copyOf(files);
    }
}
