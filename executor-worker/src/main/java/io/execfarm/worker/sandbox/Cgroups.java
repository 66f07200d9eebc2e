package io.execfarm.worker.sandbox;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.jboss.logging.Logger;

/**
 * A control group per runtime process, so that its memory and its task count have limits of their
 * own that report themselves: the kernel counts an OOM kill in the group's memory.oom_control and a
 * refused fork in its pids.events. cgroup v1, with its memory and pids hierarchies, as this
 * machine mounts it; the groups live under the worker's own, in a parent named after the worker.
 */
public final class Cgroups {

    private static final Logger LOG = Logger.getLogger(Cgroups.class);
    private static final Path MOUNT = Path.of("/sys/fs/cgroup");

    private final Path memoryParent;
    private final Path pidsParent;

    private Cgroups(Path memoryParent, Path pidsParent) {
        this.memoryParent = memoryParent;
        this.pidsParent = pidsParent;
    }

    /**
     * The worker's parent groups, created, when the machine mounts cgroup v1's memory and pids
     * hierarchies and the worker may write them (it is root); empty, with the reason logged, if not.
     */
    static Optional<Cgroups> create() {
        try {
            List<String> own = Files.readAllLines(Path.of("/proc/self/cgroup"));
            Optional<Path> memory = hierarchy(own, "memory");
            Optional<Path> pids = hierarchy(own, "pids");
            if (memory.isEmpty() || pids.isEmpty()) {
                LOG.warn("sandbox: no cgroup v1 memory and pids hierarchies here: runtime processes get no memory "
                        + "or task limit of their own (RLIMIT_AS and RLIMIT_NPROC only)");
                return Optional.empty();
            }
            String name = "execfarm-" + ProcessHandle.current().pid();
            Path memoryParent = Files.createDirectories(memory.get().resolve(name));
            Path pidsParent = Files.createDirectories(pids.get().resolve(name));
            return Optional.of(new Cgroups(memoryParent, pidsParent));
        } catch (IOException e) {
            LOG.warnf("sandbox: cannot create control groups (%s): runtime processes get no memory or task limit of "
                    + "their own", e.getMessage());
            return Optional.empty();
        }
    }

    /** Where the worker's own group of {@code controller} is, from its line "N:controller:/path". */
    private static Optional<Path> hierarchy(List<String> ownGroups, String controller) {
        for (String line : ownGroups) {
            String[] parts = line.split(":", 3);
            if (parts.length == 3 && List.of(parts[1].split(",")).contains(controller)) {
                Path dir = MOUNT.resolve(controller).resolve(parts[2].substring(1));
                return Files.isWritable(dir.resolve("cgroup.procs")) ? Optional.of(dir) : Optional.empty();
            }
        }
        return Optional.empty();
    }

    /** A group for one process, with its limits set; the process joins it with {@link ProcessCgroup#join}. */
    ProcessCgroup create(String process, long memoryBytes, int maxTasks) throws IOException {
        Path memory = Files.createDirectories(memoryParent.resolve(process));
        Path pids = Files.createDirectories(pidsParent.resolve(process));
        ProcessCgroup group = new ProcessCgroup(memory, pids, memoryBytes, maxTasks);
        Files.writeString(memory.resolve("memory.limit_in_bytes"), Long.toString(memoryBytes));
        // Without this the kernel would swap the process out instead of stopping it at its limit.
        Path withSwap = memory.resolve("memory.memsw.limit_in_bytes");
        if (Files.exists(withSwap)) {
            Files.writeString(withSwap, Long.toString(memoryBytes));
        }
        Files.writeString(pids.resolve("pids.max"), Integer.toString(maxTasks));
        return group;
    }

    /**
     * Removes every group, the parents last; for worker shutdown. A task still in a group (a
     * process not yet disposed of) is killed first: a group with tasks cannot be removed.
     */
    void close() {
        for (Path parent : List.of(memoryParent, pidsParent)) {
            try (Stream<Path> children = Files.list(parent)) {
                for (Path child : children.filter(Files::isDirectory).toList()) {
                    removeWithItsTasks(child);
                }
                removeWithItsTasks(parent);
            } catch (IOException e) {
                LOG.warnf("sandbox: could not remove the control group %s: %s", parent, e.getMessage());
            }
        }
    }

    /** Kills the group's tasks, then removes it once the kernel has reaped them (a moment later). */
    static void removeWithItsTasks(Path group) throws IOException {
        for (int attempt = 0; ; attempt++) {
            for (String pid : Files.readAllLines(group.resolve("cgroup.procs"))) {
                ProcessHandle.of(Long.parseLong(pid.strip())).ifPresent(ProcessHandle::destroyForcibly);
            }
            try {
                Files.deleteIfExists(group);
                return;
            } catch (IOException busy) {
                if (attempt == 50) {
                    throw busy;
                }
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw busy;
                }
            }
        }
    }
}
