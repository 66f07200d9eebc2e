package io.execfarm.farm;

import java.nio.file.Path;
import java.util.List;

/**
 * What a run brings and takes away: local files sent along (each to a path in the working
 * directory), globs of the files to collect, and where collected files and pictures are saved.
 *
 * @param files   sent inline while they fit a request, uploaded first and referenced when not
 * @param collect globs, relative to the working directory
 * @param outDir  collected files go here under their own relative paths; pictures as display-N.EXT
 */
record Attachments(List<Sent> files, List<String> collect, Path outDir) {

    static final Attachments NONE = new Attachments(List.of(), List.of(), Path.of("."));

    /** A local file, or one stored on the farm already ({@code ref}), and where the code finds it. */
    record Sent(Path local, String ref, String path) {

        /** {@code LOCAL} (found under its own name) or {@code LOCAL=PATH}. */
        static Sent parse(String spec) {
            int equals = spec.indexOf('=');
            Path local = Path.of(equals < 0 ? spec : spec.substring(0, equals));
            return new Sent(local, null, equals < 0 ? local.getFileName().toString() : spec.substring(equals + 1));
        }

        static Sent stored(String ref, String path) {
            return new Sent(null, ref, path);
        }
    }

    Attachments {
        files = List.copyOf(files);
        collect = List.copyOf(collect);
    }

    boolean any() {
        return !files.isEmpty() || !collect.isEmpty();
    }
}
