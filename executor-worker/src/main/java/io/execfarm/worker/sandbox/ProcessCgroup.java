package io.execfarm.worker.sandbox;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
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

    /** Its counters, read through files kept open until {@link GroupCounters#close}. */
    public GroupCounters openCounters() throws IOException {
        return GroupCounters.open(this);
    }

    /** Removes the groups, killing any task still in them (the process was disposed of). */
    void delete() throws IOException {
        for (Path group : groups()) {
            Cgroups.removeWithItsTasks(group);
        }
    }

    private static long counter(Path file, String key) {
        try {
            return counter(Files.readString(file), key);
        } catch (IOException e) {
            return 0;
        }
    }

    /** The value of the line "{@code key} value" in a flat-keyed cgroup file's text; 0 when absent. */
    static long counter(String text, String key) {
        int at = text.startsWith(key + " ") ? 0 : text.indexOf("\n" + key + " ");
        if (at < 0) {
            return 0;
        }
        int start = text.indexOf(' ', at + 1) + 1;
        int end = text.indexOf('\n', start);
        try {
            return Long.parseLong(text.substring(start, end < 0 ? text.length() : end).strip());
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
