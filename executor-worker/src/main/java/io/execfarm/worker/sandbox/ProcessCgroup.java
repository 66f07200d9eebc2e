package io.execfarm.worker.sandbox;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.stream.Stream;

/**
 * The control groups of one runtime process, with the limits they were given. Under cgroup v1 the
 * process has one group in each of the memory, pids and (where the worker may write it) cpuacct
 * hierarchies; under v2 they are all the same directory.
 *
 * <p>What the kernel counts here is evidence user code cannot forge, unlike anything its process
 * says about itself: how many tasks it has, how much CPU it used, how much shared memory (tmpfs,
 * /dev/shm, memfd) it holds.
 */
public record ProcessCgroup(CgroupVersion version, Path memory, Path pids, Optional<Path> cpu,
        Optional<Path> cpuLimit, long memoryBytes, int maxTasks, long lifetimeCpuSeconds) {

    /** The distinct directories the process belongs to. */
    List<Path> groups() {
        return Stream.of(Stream.of(memory, pids), cpu.stream(), cpuLimit.stream()).flatMap(s -> s).distinct().toList();
    }

    /**
     * The command prefix that moves the process into its groups, as root, before anything of the
     * runtime runs: a shell writes its own pid into each group, then becomes the rest of the command.
     */
    List<String> join() {
        List<String> command = new ArrayList<>(List.of("sh", "-c",
                "while [ \"$1\" != -- ]; do echo $$ > \"$1\" || exit 126; shift; done; shift; exec \"$@\"",
                "execfarm-cgroup-join"));
        groups().forEach(group -> command.add(group.resolve("cgroup.procs").toString()));
        command.add("--");
        return List.copyOf(command);
    }

    /** How many times the kernel killed a task of this group for exceeding its memory limit. */
    public long memoryKills() {
        return counter(memory.resolve(version.memoryEvents()), "oom_kill");
    }

    /** How many times a fork or clone was refused because the group had its maximum of tasks. */
    public long refusedForks() {
        return counter(pids.resolve("pids.events"), "max");
    }

    /**
     * The processes in the group now: the runtime process, what sandboxes it, and whatever user
     * code started. One small read, where walking the process table reads a file per process on
     * the machine (measured: most of a worker's CPU per request).
     */
    public List<Long> processes() {
        try {
            return Cgroups.processes(pids);
        } catch (IOException | NumberFormatException e) {
            return List.of();
        }
    }

    /** Its tasks now, threads included (pids.current), or -1 when that cannot be read. */
    public long tasks() {
        try {
            return Long.parseLong(Files.readString(pids.resolve("pids.current")).strip());
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
    }

    /** The CPU time its tasks used so far, in nanoseconds; empty where the groups do not count it. */
    public OptionalLong cpuNanos() {
        if (cpu.isEmpty()) {
            return OptionalLong.empty();
        }
        try {
            return version == CgroupVersion.V1
                    ? OptionalLong.of(Long.parseLong(Files.readString(cpu.get().resolve("cpuacct.usage")).strip()))
                    : OptionalLong.of(counter(cpu.get().resolve("cpu.stat"), "usage_usec") * 1000);
        } catch (IOException | NumberFormatException e) {
            return OptionalLong.empty();
        }
    }

    /**
     * The shared memory charged to it: files on its tmpfs mounts (working directory, /tmp,
     * /dev/shm, /dev) and memfds, which outlive a request unless deleted, and which resident
     * memory does not show.
     */
    public long sharedMemoryBytes() {
        return counter(memory.resolve("memory.stat"), "shmem");
    }

    /** Removes the groups, killing any task still in them (the process was disposed of). */
    void delete() throws IOException {
        for (Path group : groups()) {
            Cgroups.removeWithItsTasks(group);
        }
    }

    private static long counter(Path file, String key) {
        try {
            for (String line : Files.readAllLines(file)) {
                String[] parts = line.split(" ");
                if (parts.length == 2 && parts[0].equals(key)) {
                    return Long.parseLong(parts[1]);
                }
            }
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
        return 0;
    }
}
