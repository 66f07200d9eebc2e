package io.execfarm.worker.runtime;

import io.execfarm.worker.sandbox.RuntimeAccess;
import java.time.Duration;
import java.util.ArrayList;
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
 * @param heapSizeHintBytes the heap size a process's garbage collector should work to stay under,
 *                          where the interpreter takes such a hint (Julia >= 1.9); 0 for none
 * @param access            paths and network its processes may reach beyond the sandbox's defaults
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
        long heapSizeHintBytes,
        RuntimeAccess access,
        Map<String, String> env,
        Duration startTimeout) {

    public RuntimeDefinition {
        flags = List.copyOf(flags);
        env = Map.copyOf(env);
    }

    public RuntimeDefinition withBinary(String newBinary) {
        return new RuntimeDefinition(name, newBinary, flags, driverResource, warmUp, addressSpaceBytes,
                heapSizeHintBytes, access, env, startTimeout);
    }

    public RuntimeDefinition withFlags(List<String> newFlags) {
        return new RuntimeDefinition(name, binary, newFlags, driverResource, warmUp, addressSpaceBytes,
                heapSizeHintBytes, access, env, startTimeout);
    }

    /** This definition with {@code extra} flags after its own. */
    public RuntimeDefinition withExtraFlags(List<String> extra) {
        List<String> all = new ArrayList<>(flags);
        all.addAll(extra);
        return withFlags(all);
    }

    public RuntimeDefinition withWarmUp(String newWarmUp) {
        return new RuntimeDefinition(name, binary, flags, driverResource, newWarmUp, addressSpaceBytes,
                heapSizeHintBytes, access, env, startTimeout);
    }

    public RuntimeDefinition withAccess(RuntimeAccess newAccess) {
        return new RuntimeDefinition(name, binary, flags, driverResource, warmUp, addressSpaceBytes,
                heapSizeHintBytes, newAccess, env, startTimeout);
    }

    public RuntimeDefinition withAddressSpace(long bytes) {
        return new RuntimeDefinition(name, binary, flags, driverResource, warmUp, bytes, heapSizeHintBytes, access, env,
                startTimeout);
    }
}
