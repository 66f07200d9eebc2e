package io.execfarm.worker.sandbox;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Everything needed to start one runtime process.
 *
 * @param command      the full argv, sandbox prefix included
 * @param environment  the complete environment; nothing else is inherited
 * @param workDir      the process's private working and HOME directory
 * @param stderrLog    where the process's original stderr goes (start-up errors), outside its reach
 * @param namespaced   whether the launcher's child is the init of a PID namespace whose only
 *                     child is the runtime (so killing the init kills the whole tree)
 * @param cgroup       the process's own control groups, where it has them
 * @param ownSession   whether the runtime process leads a session of its own ({@code setsid}), which
 *                     everything it starts stays in, orphans included
 * @param uid          the uid it runs as, held by it alone while it lives ({@link UidRange}), or -1
 *                     when it runs as the worker's
 * @param scratch      the directories it may write, as it sees them, emptied after each request
 *                     ({@link Scratch})
 * @param privateView  whether it sees a file system of its own (bubblewrap), reached from outside
 *                     through its {@code /proc/<pid>/root}
 * @param collected    its own directories (values) shown in the places of the runtime's collected
 *                     directories (keys), emptied into them when it is retired
 */
public record LaunchSpec(List<String> command, Map<String, String> environment, Path workDir, Path stderrLog,
        boolean namespaced, Optional<ProcessCgroup> cgroup, boolean ownSession, int uid, List<Path> scratch,
        boolean privateView, Map<Path, Path> collected) {

    public LaunchSpec {
        command = List.copyOf(command);
        environment = Map.copyOf(environment);
        scratch = List.copyOf(scratch);
        collected = Map.copyOf(collected);
    }
}
