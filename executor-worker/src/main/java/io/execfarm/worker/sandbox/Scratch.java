package io.execfarm.worker.sandbox;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Where a process may write (its scratch directories), emptied after each request so that the next
 * finds nothing of it, and trees deleted without following a link that user code planted.
 */
public final class Scratch {

    /**
     * More entries than this and emptying stops: a process that left so many is retired instead,
     * which, with its scratch on tmpfs mounts of its own, drops them all at once.
     */
    static final int MAX_ENTRIES = 10_000;

    private Scratch() {
    }

    /**
     * Deletes what the scratch directories of {@code spec}'s process hold, the directories
     * themselves kept. With a private view the directories are reached through the process's own
     * root ({@code /proc/<pid>/root}), as it sees them.
     *
     * @return false when they held more than {@link #MAX_ENTRIES} entries and were left as they are
     * @throws IOException when something could not be deleted
     */
    public static boolean empty(LaunchSpec spec, long pid) throws IOException {
        List<Path> dirs = reached(spec, pid);
        int[] budget = {MAX_ENTRIES};
        for (Path dir : dirs) {
            Object device = Files.getAttribute(dir, "unix:dev", LinkOption.NOFOLLOW_LINKS);
            List<Path> children;
            try (Stream<Path> listed = Files.list(dir)) {
                children = listed.filter(child -> !dirs.contains(child)).toList();
            }
            for (Path child : children) {
                if (!deleteTree(child, Optional.of(device), budget)) {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * Moves the regular files directly in {@code from} into {@code to}, readable by the worker
     * alone; links, directories and anything else user code made there stay behind, to be deleted.
     */
    static void collect(Path from, Path to) throws IOException {
        copyChanged(from, to, new HashMap<>());
    }

    /**
     * The directories on its scratch file systems as they are now (their change times), to tell
     * later whether anything was created or removed in any of them: a cheaper look than a walk.
     */
    public static State state(LaunchSpec spec, long pid) throws IOException {
        Map<Path, FileTime> changed = new HashMap<>();
        for (Path dir : reached(spec, pid)) {
            Object device = Files.getAttribute(dir, "unix:dev", LinkOption.NOFOLLOW_LINKS);
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path visited, BasicFileAttributes attrs) throws IOException {
                    if (!device.equals(Files.getAttribute(visited, "unix:dev", LinkOption.NOFOLLOW_LINKS))) {
                        return FileVisitResult.SKIP_SUBTREE;
                    }
                    changed.put(visited, ctime(visited));
                    return FileVisitResult.CONTINUE;
                }
            });
        }
        return new State(Map.copyOf(changed));
    }

    /**
     * The change times of the directories on a process's scratch file systems. Creating or
     * removing an entry changes its directory's change time, which, unlike the modification
     * time, user code cannot set back.
     */
    public record State(Map<Path, FileTime> changed) {

        /** Whether every directory is still there, unchanged; a file's content is not looked at (there were none). */
        public boolean unchanged() {
            for (Map.Entry<Path, FileTime> dir : changed.entrySet()) {
                try {
                    if (!ctime(dir.getKey()).equals(dir.getValue())) {
                        return false;
                    }
                } catch (IOException e) {
                    return false;
                }
            }
            return true;
        }
    }

    private static FileTime ctime(Path dir) throws IOException {
        return (FileTime) Files.getAttribute(dir, "unix:ctime", LinkOption.NOFOLLOW_LINKS);
    }

    /** Its scratch directories, reached from outside: through its own root where it has a private view. */
    private static List<Path> reached(LaunchSpec spec, long pid) {
        Path root = Path.of("/proc", Long.toString(pid), "root");
        return spec.scratch().stream()
                .map(dir -> spec.privateView() ? root.resolve(Path.of("/").relativize(dir)) : dir).toList();
    }

    /**
     * Copies into {@code to} the regular files directly in {@code from} that changed since
     * {@code seen} (their modification times, updated here), readable by the worker alone: so that
     * what a live process records there (compile traces) can be read while it still runs. Neither
     * end is followed if it is a link: user code owns {@code from}, and a link it swapped in there
     * (or, below a private view, planted in {@code to}) must not make the worker read or write
     * another file. Call it only while nothing of the process runs but its driver at rest: a file
     * swapped for a pipe between the look and the open would stall the copy.
     */
    public static void copyChanged(Path from, Path to, Map<Path, FileTime> seen) throws IOException {
        List<Path> files;
        try (Stream<Path> listed = Files.list(from)) {
            files = listed.filter(file -> Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)).toList();
        }
        for (Path file : files) {
            FileTime modified = Files.getLastModifiedTime(file, LinkOption.NOFOLLOW_LINKS);
            if (!modified.equals(seen.get(file))) {
                try (InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS);
                        OutputStream out = Channels.newOutputStream(Files.newByteChannel(to.resolve(file.getFileName()),
                                Set.of(StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                                        StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS),
                                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"))))) {
                    in.transferTo(out);
                }
                seen.put(file, modified);
            }
        }
    }

    /** Deletes {@code root} and everything under it; nothing when it does not exist. */
    static void deleteTree(Path root) throws IOException {
        deleteTree(root, Optional.empty(), new int[] {Integer.MAX_VALUE});
    }

    /**
     * Deletes {@code root} and what is under it, within {@code budget} entries. With a {@code device},
     * it stays on that file system: a mount point under it (in a /tmp that holds the mount points of
     * the process's working directory and the driver scripts) is left, with the directories above it.
     */
    private static boolean deleteTree(Path root, Optional<Object> device, int[] budget) throws IOException {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            return true;
        }
        boolean[] within = {true};
        Set<Path> keep = new HashSet<>();
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                if (--budget[0] < 0) {
                    within[0] = false;
                    return FileVisitResult.TERMINATE;
                }
                if (device.isPresent() && !device.get().equals(Files.getAttribute(dir, "unix:dev", LinkOption.NOFOLLOW_LINKS))) {
                    for (Path above = dir; above != null && above.startsWith(root); above = above.getParent()) {
                        keep.add(above);
                    }
                    return FileVisitResult.SKIP_SUBTREE;
                }
                // User code may have made its own directories unreadable; the owner can always chmod.
                Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                if (--budget[0] < 0) {
                    within[0] = false;
                    return FileVisitResult.TERMINATE;
                }
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
                if (e != null) {
                    throw e;
                }
                if (!keep.contains(dir)) {
                    Files.delete(dir);
                }
                return FileVisitResult.CONTINUE;
            }
        });
        return within[0];
    }
}
