package io.execfarm.worker.sandbox;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** Programs on a PATH: the worker's own, or the one its sandboxed processes see. */
final class SearchPath {

    private SearchPath() {
    }

    /** The first executable {@code program} in the directories of {@code path} (colon-separated; null for none). */
    static Optional<Path> find(String program, String path) {
        if (path == null) {
            return Optional.empty();
        }
        for (String dir : path.split(":")) {
            Path candidate = dir.isEmpty() ? null : Path.of(dir, program);
            if (candidate != null && Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }
}
