package io.execfarm.worker.runtime;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * One runtime the worker can run, e.g. julia or python.
 *
 * @param binary            the interpreter as configured: a name looked up on PATH or an absolute path
 * @param flags             interpreter flags placed before the driver script
 * @param driverResource    classpath resource of the driver script
 * @param warmUp            code run once before a process counts as warm (preloads, JIT of common paths)
 * @param addressSpaceBytes RLIMIT_AS of each process; 0 for none
 * @param env               environment added for this runtime (e.g. JULIA_DEPOT_PATH)
 * @param startTimeout      how long start-up plus warm-up may take
 */
public record RuntimeDefinition(
        String name,
        String binary,
        List<String> flags,
        String driverResource,
        String warmUp,
        long addressSpaceBytes,
        Map<String, String> env,
        Duration startTimeout) {

    public RuntimeDefinition {
        flags = List.copyOf(flags);
        env = Map.copyOf(env);
    }
}
