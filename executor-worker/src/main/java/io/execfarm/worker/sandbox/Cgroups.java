package io.execfarm.worker.sandbox;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;
import org.jboss.logging.Logger;

/**
 * A control group per runtime process, so that its memory and its task count have limits of their
 * own that report themselves (the kernel counts an OOM kill in the group's memory events and a
 * refused fork in its pids.events), and so that what the process does can be judged from outside
 * it: its tasks, its CPU time, its shared memory. cgroup v1 (separate memory, pids and cpuacct
 * hierarchies, as this machine mounts them) where the worker's own groups are in them, else cgroup
 * v2 (one unified hierarchy, as most container hosts now mount it, where every group counts its CPU
 * time). The groups live under the worker's own, in a parent of this sandbox's own, named after the
 * worker's pid and a random tag: closing one sandbox removes its groups only, not those of another
 * in the same JVM (the tests run several).
 */
public final class Cgroups {

    private static final Logger LOG = Logger.getLogger(Cgroups.class);
    private static final String CONTROLLERS = "+memory +pids";
    /** The CFS period a quota is a share of. */
    private static final long CPU_PERIOD_MICROS = 100_000;

    private final CgroupVersion version;
    private final Path memoryParent;
    private final Path pidsParent;
    /** Where CPU time is counted: v1's cpuacct hierarchy when the worker may write it; v2's own groups. */
    private final Optional<Path> cpuParent;
    /** Where CPU use is capped: v1's cpu hierarchy, v2's groups where the cpu controller was delegated. */
    private final Optional<Path> cpuLimitParent;

    private Cgroups(CgroupVersion version, Path memoryParent, Path pidsParent, Optional<Path> cpuParent,
            Optional<Path> cpuLimitParent) {
        this.version = version;
        this.memoryParent = memoryParent;
        this.pidsParent = pidsParent;
        this.cpuParent = cpuParent;
        this.cpuLimitParent = cpuLimitParent;
    }

    /**
     * The worker's parent groups, created, when the machine mounts the memory and pids controllers
     * and the worker may write its own groups (it is root); empty, with the reason logged, if not.
     */
    static Optional<Cgroups> create() {
        try {
            return create(Path.of("/sys/fs/cgroup"), Files.readAllLines(Path.of("/proc/self/cgroup")),
                    ProcessHandle.current().pid(), Integer.toHexString(ThreadLocalRandom.current().nextInt()));
        } catch (IOException e) {
            LOG.warnf("sandbox: cannot create control groups (%s): runtime processes get no memory or task limit of "
                    + "their own, and nothing outside them shows whether they are at rest after a request (what one "
                    + "leaves running can reach the next)", e.getMessage());
            return Optional.empty();
        }
    }

    /**
     * The parent groups under {@code mount}, for a worker whose /proc/self/cgroup reads
     * {@code ownGroups}, with {@code tag} telling its sandbox's parent from another's; package-private
     * so that both layouts can be tested on a directory tree.
     */
    static Optional<Cgroups> create(Path mount, List<String> ownGroups, long workerPid, String tag) throws IOException {
        String worker = "execfarm-" + workerPid;
        String name = worker + "-" + tag;
        Optional<Path> memory = v1Hierarchy(mount, ownGroups, "memory");
        Optional<Path> pids = v1Hierarchy(mount, ownGroups, "pids");
        if (memory.isPresent() && pids.isPresent()) {
            Optional<Path> cpu = v1Hierarchy(mount, ownGroups, "cpuacct");
            Optional<Path> cpuLimit = v1Hierarchy(mount, ownGroups, "cpu");
            if (cpu.isEmpty() || cpuLimit.isEmpty()) {
                LOG.warn("sandbox: no cpuacct or cpu hierarchy the worker may write: a process's CPU is neither "
                        + "capped nor counted (no check of CPU used while idle; RLIMIT_CPU for its lifetime)");
            }
            return Optional.of(new Cgroups(CgroupVersion.V1, Files.createDirectories(memory.get().resolve(name)),
                    Files.createDirectories(pids.get().resolve(name)), parentIn(cpu, name), parentIn(cpuLimit, name)));
        }
        Optional<Path> unified = v2Group(mount, ownGroups);
        if (unified.isEmpty()) {
            LOG.warn("sandbox: the worker's control groups have no memory and pids controllers it may write (cgroup v1 "
                    + "hierarchies, or cgroup v2 with both delegated): runtime processes get no memory or task limit "
                    + "of their own (RLIMIT_AS and RLIMIT_NPROC only), and nothing outside them shows whether they are "
                    + "at rest after a request (what one leaves running can reach the next)");
            return Optional.empty();
        }
        boolean cpu = controllers(unified.get()).contains("cpu");
        Path parent = delegate(unified.get(), worker + "-worker", name, cpu ? CONTROLLERS + " +cpu" : CONTROLLERS);
        return Optional.of(new Cgroups(CgroupVersion.V2, parent, parent, Optional.of(parent),
                cpu ? Optional.of(parent) : Optional.empty()));
    }

    private static Optional<Path> parentIn(Optional<Path> hierarchy, String name) throws IOException {
        return hierarchy.isPresent() ? Optional.of(Files.createDirectories(hierarchy.get().resolve(name))) : Optional.empty();
    }

    private static List<String> controllers(Path group) throws IOException {
        return List.of(Files.readString(group.resolve("cgroup.controllers")).strip().split("\\s+"));
    }

    /** Where the worker's own group of {@code controller} is, from its line "N:controller:/path". */
    private static Optional<Path> v1Hierarchy(Path mount, List<String> ownGroups, String controller) {
        for (String line : ownGroups) {
            String[] parts = line.split(":", 3);
            if (parts.length == 3 && List.of(parts[1].split(",")).contains(controller)) {
                Path dir = mount.resolve(controller).resolve(parts[2].substring(1));
                return Files.isWritable(dir.resolve("cgroup.procs")) ? Optional.of(dir) : Optional.empty();
            }
        }
        return Optional.empty();
    }

    /**
     * The worker's own group in a unified (v2) mount, from its line "0::/path", when the memory
     * and pids controllers reach it and it may write it. A hybrid mount (v2 beside v1, as here)
     * has its v2 tree elsewhere and with no controllers, so it does not count.
     */
    private static Optional<Path> v2Group(Path mount, List<String> ownGroups) throws IOException {
        if (!Files.exists(mount.resolve("cgroup.controllers"))) {
            return Optional.empty();
        }
        for (String line : ownGroups) {
            if (line.startsWith("0::/")) {
                Path dir = mount.resolve(line.substring("0::/".length()));
                boolean delegated = Files.isWritable(dir.resolve("cgroup.procs"))
                        && controllers(dir).containsAll(List.of("memory", "pids"));
                return delegated ? Optional.of(dir) : Optional.empty();
            }
        }
        return Optional.empty();
    }

    /**
     * Makes {@code own} hand {@code controllers} (memory and pids, cpu where it has it) to a new parent for the runtime
     * processes' groups. cgroup v2 lets a group enable controllers for its children only while it
     * holds no process itself, so the worker's own processes first move to a leaf beside that
     * parent, as docker-in-docker's entrypoint does with a container's processes.
     */
    private static Path delegate(Path own, String workerLeaf, String name, String controllers) throws IOException {
        List<String> tasks = Files.readAllLines(own.resolve("cgroup.procs")).stream().filter(t -> !t.isBlank()).toList();
        if (!tasks.isEmpty()) {
            Path leaf = Files.createDirectories(own.resolve(workerLeaf));
            for (String task : tasks) {
                try {
                    Files.writeString(leaf.resolve("cgroup.procs"), task.strip());
                } catch (IOException e) {
                    if (ProcessHandle.of(Long.parseLong(task.strip())).isPresent()) {
                        throw e;
                    }
                }
            }
        }
        Files.writeString(own.resolve("cgroup.subtree_control"), controllers);
        Path parent = Files.createDirectories(own.resolve(name));
        Files.writeString(parent.resolve("cgroup.subtree_control"), controllers);
        return parent;
    }

    /**
     * A group for one process, with its limits set ({@code cpuCores} 0 for no CPU cap); the process
     * joins it with {@link ProcessCgroup#join}.
     */
    ProcessCgroup create(String process, long memoryBytes, int maxTasks, double cpuCores, long lifetimeCpuSeconds)
            throws IOException {
        Path memory = Files.createDirectories(memoryParent.resolve(process));
        Path pids = Files.createDirectories(pidsParent.resolve(process));
        Optional<Path> cpu = parentIn(cpuParent, process);
        Optional<Path> cpuLimit = parentIn(cpuLimitParent, process);
        ProcessCgroup group = new ProcessCgroup(version, memory, pids, cpu, cpuLimit, memoryBytes, maxTasks,
                lifetimeCpuSeconds);
        if (cpuLimit.isPresent() && cpuCores > 0) {
            long quota = Math.max(1000, Math.round(cpuCores * CPU_PERIOD_MICROS));
            try {
                if (version == CgroupVersion.V1) {
                    Files.writeString(cpuLimit.get().resolve("cpu.cfs_period_us"), Long.toString(CPU_PERIOD_MICROS));
                    Files.writeString(cpuLimit.get().resolve("cpu.cfs_quota_us"), Long.toString(quota));
                } else {
                    Files.writeString(cpuLimit.get().resolve("cpu.max"), quota + " " + CPU_PERIOD_MICROS);
                }
            } catch (IOException e) {
                // cgroup v1 refuses a quota above an ancestor's (a container given fewer CPUs): that one caps it.
                LOG.warnf("sandbox: no CPU cap of %.2f CPUs for %s (%s); the worker's own cap applies", cpuCores,
                        process, e.getMessage());
            }
        }
        Files.writeString(memory.resolve(version.memoryLimit()), Long.toString(memoryBytes));
        // Without this the kernel would swap the process out instead of stopping it at its limit.
        Path swap = memory.resolve(version.swapLimit());
        if (Files.exists(swap)) {
            Files.writeString(swap, version.swapLimitFor(memoryBytes));
        }
        Files.writeString(pids.resolve("pids.max"), Integer.toString(maxTasks));
        return group;
    }

    /**
     * Removes every group, the parents last; for worker shutdown. A task still in a group (a
     * process not yet disposed of) is killed first: a group with tasks cannot be removed.
     */
    void close() {
        List<Path> parents = Stream.of(Stream.of(memoryParent, pidsParent), cpuParent.stream(), cpuLimitParent.stream())
                .flatMap(s -> s).distinct().toList();
        for (Path parent : parents) {
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

    /** The processes in a group, from its cgroup.procs (the same file in either version). */
    static List<Long> processes(Path group) throws IOException {
        return Files.readAllLines(group.resolve("cgroup.procs")).stream().filter(line -> !line.isBlank())
                .map(line -> Long.parseLong(line.strip())).toList();
    }

    /** Kills the group's tasks, then removes it once the kernel has reaped them (a moment later). */
    static void removeWithItsTasks(Path group) throws IOException {
        for (int attempt = 0; ; attempt++) {
            for (long pid : processes(group)) {
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
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
