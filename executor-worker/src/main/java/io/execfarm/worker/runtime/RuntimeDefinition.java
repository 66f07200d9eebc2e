package io.execfarm.worker.runtime;

import io.execfarm.worker.sandbox.Confinement;
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
 * @param confinement       limits and reach of each process in the sandbox
 * @param heapSizeHintBytes the heap size a process's garbage collector should work to stay under,
 *                          where the interpreter takes such a hint (Julia >= 1.9); 0 for none
 * @param env               environment added for this runtime (e.g. JULIA_DEPOT_PATH)
 * @param startTimeout      how long start-up plus warm-up may take
 */
public record RuntimeDefinition(
        String name,
        String binary,
        List<String> flags,
        String driverResource,
        String warmUp,
        Confinement confinement,
        long heapSizeHintBytes,
        Map<String, String> env,
        Duration startTimeout) {

    public RuntimeDefinition {
        flags = List.copyOf(flags);
        env = Map.copyOf(env);
    }

    public RuntimeDefinition withBinary(String newBinary) {
        return new RuntimeDefinition(name, newBinary, flags, driverResource, warmUp, confinement, heapSizeHintBytes,
                env, startTimeout);
    }

    public RuntimeDefinition withFlags(List<String> newFlags) {
        return new RuntimeDefinition(name, binary, newFlags, driverResource, warmUp, confinement, heapSizeHintBytes,
                env, startTimeout);
    }

    /** This definition with {@code extra} flags after its own. */
    public RuntimeDefinition withExtraFlags(List<String> extra) {
        List<String> all = new ArrayList<>(flags);
        all.addAll(extra);
        return withFlags(all);
    }

    public RuntimeDefinition withWarmUp(String newWarmUp) {
        return new RuntimeDefinition(name, binary, flags, driverResource, newWarmUp, confinement, heapSizeHintBytes,
                env, startTimeout);
    }

    public RuntimeDefinition withConfinement(Confinement newConfinement) {
        return new RuntimeDefinition(name, binary, flags, driverResource, warmUp, newConfinement, heapSizeHintBytes,
                env, startTimeout);
    }
}
