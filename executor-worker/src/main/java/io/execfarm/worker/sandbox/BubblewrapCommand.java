package io.execfarm.worker.sandbox;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The bubblewrap arguments that give one runtime process its private view: new user, PID,
 * network, IPC, UTS and cgroup namespaces; a root file system holding only the system directories
 * (read-only), the interpreter's installation and the runtime's extra paths, the driver scripts
 * (read-only), a fresh /proc and a minimal, read-only /dev; size-capped tmpfs mounts for its
 * working directory, /tmp and /dev/shm, the only places it may write; no further user namespaces; a seccomp filter ({@link SyscallFilter}); killed with
 * its parent.
 */
final class BubblewrapCommand {

    /** Read-only at their own place, when present: what interpreters and their libraries need. */
    private static final List<Path> SYSTEM = List.of(Path.of("/usr"), Path.of("/etc"));
    /** Usually symlinks into /usr (merged /usr); bound where they are real directories. */
    private static final List<Path> TOP_LEVEL = List.of(Path.of("/bin"), Path.of("/sbin"), Path.of("/lib"),
            Path.of("/lib32"), Path.of("/lib64"), Path.of("/libx32"));

    private BubblewrapCommand() {
    }

    /**
     * @param workDir     where the process's own working directory is (a tmpfs mounted there)
     * @param drivers     the driver scripts, read-only
     * @param interpreter the interpreter as the command names it, to show its installation
     * @param path        the PATH the interpreter is looked up on when {@code interpreter} is a bare name
     * @param collected   the process's own directories (values) to show at the places of the
     *                    runtime's collected directories (keys)
     * @param filter      the compiled seccomp filter
     */
    static List<String> arguments(Path workDir, Path drivers, String interpreter, String path, RuntimeAccess access,
            Map<Path, Path> collected, long tmpBytes, Path filter) throws IOException {
        // bubblewrap reads the filter from a descriptor; a shell opens it as fd 3 and becomes bwrap.
        List<String> args = new ArrayList<>(List.of("sh", "-c", "exec \"$@\" 3<\"$0\"", filter.toString(),
                "bwrap", "--seccomp", "3", "--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent",
                "--new-session"));
        if (access.network()) {
            args.add("--share-net");
        }
        for (Path dir : SYSTEM) {
            if (Files.isDirectory(dir)) {
                readOnly(args, dir);
            }
        }
        for (Path top : TOP_LEVEL) {
            if (Files.isSymbolicLink(top)) {
                args.addAll(List.of("--symlink", Files.readSymbolicLink(top).toString(), top.toString()));
            } else if (Files.isDirectory(top, LinkOption.NOFOLLOW_LINKS)) {
                readOnly(args, top);
            }
        }
        Optional<Path> installation = installation(interpreter, path);
        installation.ifPresent(home -> readOnly(args, home));
        // Every place it may write is a tmpfs of its own, capped in size and counted in its memory:
        // /dev/shm, /tmp and its working directory. /dev itself, a tmpfs too, is made read-only.
        args.addAll(List.of("--proc", "/proc", "--dev", "/dev"));
        args.addAll(List.of("--size", Long.toString(tmpBytes), "--tmpfs", "/dev/shm", "--remount-ro", "/dev"));
        args.addAll(List.of("--size", Long.toString(tmpBytes), "--tmpfs", "/tmp"));
        // After /tmp: the work root usually lives under the worker's /tmp, which the tmpfs hides.
        readOnly(args, drivers);
        for (Path extra : access.readOnly()) {
            readOnly(args, extra);
        }
        collected.forEach((place, own) -> args.addAll(List.of("--bind", own.toString(), place.toString())));
        args.addAll(List.of("--size", Long.toString(tmpBytes), "--tmpfs", workDir.toString(), "--chdir",
                workDir.toString(), "--"));
        return args;
    }

    /**
     * Where the interpreter is installed, when that is outside the system directories: the parent
     * of the directory holding its real executable (/opt/julia for /opt/julia/bin/julia).
     */
    static Optional<Path> installation(String interpreter, String path) throws IOException {
        Optional<Path> executable = interpreter.contains("/")
                ? Optional.of(Path.of(interpreter)).filter(Files::isExecutable)
                : SearchPath.find(interpreter, path);
        if (executable.isEmpty()) {
            return Optional.empty();
        }
        Path home = executable.get().toRealPath().getParent().getParent();
        boolean system = home == null || home.getParent() == null
                || SYSTEM.stream().anyMatch(home::startsWith) || TOP_LEVEL.stream().anyMatch(home::startsWith);
        return system ? Optional.empty() : Optional.of(home);
    }

    private static void readOnly(List<String> args, Path path) {
        args.addAll(List.of("--ro-bind", path.toString(), path.toString()));
    }
}
