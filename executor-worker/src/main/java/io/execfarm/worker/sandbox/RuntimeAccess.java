package io.execfarm.worker.sandbox;

import java.nio.file.Path;
import java.util.List;

/**
 * What a runtime's processes may reach beyond their own directory, where the sandbox gives them a
 * private view (bubblewrap): the system directories and the interpreter's installation are always
 * readable; these paths are added.
 *
 * @param readOnly paths shown read-only at the same place (a sysimage, a package depot)
 * @param collected directories each process, where it has a private view, sees a private one of
 *                  in their place, readable and writable by it alone; what it wrote there is moved
 *                  into the real directory when it is retired (compile traces). Without a private
 *                  view it writes the real directory.
 * @param network  whether processes share the worker's network; off, they have loopback only.
 *                 On lets user code reach the farm's broker and Redis and anything else the worker
 *                 can: a risk to take only for trusted code.
 */
public record RuntimeAccess(List<Path> readOnly, List<Path> collected, boolean network) {

    /** Nothing beyond the defaults, and no network. */
    public static final RuntimeAccess NONE = new RuntimeAccess(List.of(), List.of(), false);

    public RuntimeAccess {
        readOnly = List.copyOf(readOnly);
        collected = List.copyOf(collected);
    }

    public RuntimeAccess withReadOnly(Path path) {
        return new RuntimeAccess(concat(readOnly, path), collected, network);
    }

    public RuntimeAccess withCollected(Path path) {
        return new RuntimeAccess(readOnly, concat(collected, path), network);
    }

    private static List<Path> concat(List<Path> paths, Path added) {
        return java.util.stream.Stream.concat(paths.stream(), java.util.stream.Stream.of(added)).toList();
    }
}
