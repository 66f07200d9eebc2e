package io.execfarm.worker.sandbox;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The control groups of one runtime process (cgroup v1: one in the memory hierarchy, one in the
 * pids hierarchy), with the limits they were given.
 */
public record ProcessCgroup(Path memory, Path pids, long memoryBytes, int maxTasks) {

    /**
     * The command prefix that moves the process into its groups, as root, before anything of the
     * runtime runs: a shell writes its own pid into each group, then becomes the rest of the command.
     */
    List<String> join() {
        return List.of("sh", "-c", "while [ \"$1\" != -- ]; do echo $$ > \"$1\" || exit 126; shift; done; shift; "
                + "exec \"$@\"", "execfarm-cgroup-join", memory.resolve("cgroup.procs").toString(),
                pids.resolve("cgroup.procs").toString(), "--");
    }

    /** How many times the kernel killed a task of this group for exceeding its memory limit. */
    public long memoryKills() {
        return counter(memory.resolve("memory.oom_control"), "oom_kill");
    }

    /** How many times a fork or clone was refused because the group had its maximum of tasks. */
    public long refusedForks() {
        return counter(pids.resolve("pids.events"), "max");
    }

    /** Removes the groups, killing any task still in them (the process was disposed of). */
    void delete() throws IOException {
        Cgroups.removeWithItsTasks(memory);
        Cgroups.removeWithItsTasks(pids);
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
