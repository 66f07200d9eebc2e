package io.execfarm.worker.sandbox;

import java.nio.file.Path;
import java.util.List;

/**
 * How runtime processes are confined.
 *
 * @param enabled          false runs processes with the scrubbed environment only: for debugging, never in production
 * @param workRoot         parent of every process's private working and HOME directory
 * @param uidBase          when the worker is root, the process in pool slot {@code n} runs as uid/gid {@code uidBase + n}
 * @param cpuSeconds       RLIMIT_CPU over a process's whole life (wall timeouts end single requests)
 * @param maxProcesses     RLIMIT_NPROC: processes and threads a runtime process may have (enforced for non-root uids)
 * @param maxFileSizeBytes RLIMIT_FSIZE: the largest file user code may write
 * @param openFiles        RLIMIT_NOFILE
 * @param tmpBytes         size of the private /tmp, where processes get one (bubblewrap)
 * @param path             the PATH user code sees
 * @param passEnv          names of worker environment variables passed through; nothing else is
 */
public record SandboxSettings(
        boolean enabled,
        Path workRoot,
        int uidBase,
        long cpuSeconds,
        int maxProcesses,
        long maxFileSizeBytes,
        int openFiles,
        long tmpBytes,
        String path,
        List<String> passEnv) {

    public static final String DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin";
    public static final long DEFAULT_TMP_BYTES = 64L << 20;
    public static final List<String> DEFAULT_PASS_ENV = List.of("LANG", "LC_ALL", "LC_CTYPE", "TZ");

    public SandboxSettings {
        passEnv = List.copyOf(passEnv);
    }
}
