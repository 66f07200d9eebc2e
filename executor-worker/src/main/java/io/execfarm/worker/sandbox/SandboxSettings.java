package io.execfarm.worker.sandbox;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How runtime processes are confined.
 *
 * @param enabled          false runs processes with the scrubbed environment only: for debugging, never in production
 * @param workRoot         parent of every process's private working and HOME directory
 * @param uidBase          when the worker is root, the first uid its processes may run as ({@link UidRange})
 * @param cpuSeconds       CPU over a process's whole life (wall timeouts end single requests): where its
 *                         control group counts CPU, it is retired after the request that passed it; else RLIMIT_CPU
 * @param cpuCores         CPUs a process may use at most, where its control group has a CPU controller; 0 for no cap
 * @param maxProcesses     RLIMIT_NPROC: processes and threads a runtime process may have (enforced for non-root uids)
 * @param maxFileSizeBytes RLIMIT_FSIZE: the largest file user code may write
 * @param openFiles        RLIMIT_NOFILE
 * @param tmpBytes         size of the private /tmp, where processes get one (bubblewrap)
 * @param path             the PATH user code sees
 * @param passEnv          names of worker environment variables passed through; nothing else is
 * @param slots            pool slots per runtime, each of which gets a uid of its own, in this order
 * @param uidLockDir       where the uids in use on this host are held (a lock per uid)
 */
public record SandboxSettings(
        boolean enabled,
        Path workRoot,
        int uidBase,
        long cpuSeconds,
        double cpuCores,
        int maxProcesses,
        long maxFileSizeBytes,
        int openFiles,
        long tmpBytes,
        String path,
        List<String> passEnv,
        Map<String, Integer> slots,
        Path uidLockDir) {

    public static final String DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin";
    public static final Path DEFAULT_UID_LOCK_DIR = Path.of("/run/execfarm/uids");
    public static final long DEFAULT_TMP_BYTES = 64L << 20;
    public static final List<String> DEFAULT_PASS_ENV = List.of("LANG", "LC_ALL", "LC_CTYPE", "TZ");

    public SandboxSettings {
        passEnv = List.copyOf(passEnv);
        slots = Collections.unmodifiableMap(new LinkedHashMap<>(slots));
    }
}
