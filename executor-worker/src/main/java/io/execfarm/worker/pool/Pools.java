package io.execfarm.worker.pool;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.execfarm.worker.config.WorkerConfig;
import io.execfarm.worker.runtime.KnownRuntimes;
import io.execfarm.worker.runtime.RuntimeDefinition;
import io.execfarm.worker.runtime.RuntimeLauncher;
import io.execfarm.worker.runtime.RuntimeProcess;
import io.execfarm.worker.runtime.RuntimeUnavailableException;
import io.execfarm.worker.sandbox.Sandbox;
import io.execfarm.worker.sandbox.SandboxSettings;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.annotation.Priority;
import jakarta.enterprise.event.Observes;
import jakarta.interceptor.Interceptor;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.microprofile.config.Config;
import io.execfarm.worker.sandbox.Confinement;
import io.execfarm.worker.sandbox.RuntimeAccess;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * The worker's pools, one per runtime it serves, pre-started at boot. A runtime is served when its
 * request channel ({@code mp.messaging.incoming.requests-<runtime>.enabled}) is on: one switch
 * decides both what the worker consumes and what it runs. A served runtime that cannot run here
 * stops the boot, with the reason and the switch to turn it off, rather than consuming requests it
 * cannot run while other workers could.
 */
@ApplicationScoped
public class Pools {

    private static final Logger LOG = Logger.getLogger(Pools.class);

    private final WorkerConfig config;
    private final Config channels;
    private final Map<String, PoolExecutor> executors = new LinkedHashMap<>();
    private final Map<String, String> unavailable = new LinkedHashMap<>();
    private Sandbox sandbox;

    public Pools(WorkerConfig config, Config channels) {
        this.config = config;
        this.channels = channels;
    }

    void start(@Observes @Priority(Interceptor.Priority.PLATFORM_BEFORE + 1) StartupEvent event) {
        Map<String, Integer> slots = new LinkedHashMap<>();
        for (String name : KnownRuntimes.NAMES) {
            if (!served(name)) {
                unavailable.put(name, "not served by this worker (" + servedSwitch(name) + "=false)");
                continue;
            }
            slots.put(name, config.runtime().get(name).pool().size());
        }
        sandbox = Sandbox.create(sandboxSettings(config.sandbox(), slots), config.sandbox().isolation(),
                config.sandbox().minimumIsolation());
        ObjectMapper json = new ObjectMapper();
        for (String name : slots.keySet()) {
            String channel = servedSwitch(name);
            try {
                RuntimeDefinition definition = definition(name, config.runtime().get(name));
                RuntimeLauncher launcher = RuntimeLauncher.prepare(definition, sandbox, json);
                ProcessPool<RuntimeProcess> pool = new ProcessPool<>(name, poolSettings(config.runtime().get(name).pool()),
                        new RuntimeProcessSource(launcher));
                pool.open();
                executors.put(name, new PoolExecutor(pool, config.acquireTimeout()));
                LOG.infof("%s %s: pool of %d opened", name, launcher.version(), pool.settings().size());
                if (pool.settings().reuse() == ReusePolicy.ALWAYS) {
                    LOG.warnf("%s: reuse=always: a process that ran one tenant's code may run another's next, and code "
                            + "that forges its driver or leaves a quiet task behind can reach that tenant's request; "
                            + "only for tenants that trust each other", name);
                }
            } catch (RuntimeUnavailableException | IllegalArgumentException e) {
                throw new IllegalStateException("this worker is configured to serve " + name + ", but " + e.getMessage()
                        + " -- install it, or set " + channel + "=false (environment: EXECFARM_"
                        + name.toUpperCase(Locale.ROOT) + "=false) to run without it", e);
            }
        }
    }

    private boolean served(String runtime) {
        return channels.getOptionalValue(servedSwitch(runtime), Boolean.class).orElse(true);
    }

    private static String servedSwitch(String runtime) {
        return "mp.messaging.incoming.requests-" + runtime + ".enabled";
    }

    void stop(@Observes ShutdownEvent event) {
        executors.values().forEach(PoolExecutor::close);
        if (sandbox != null) {
            sandbox.close();
        }
    }

    public Optional<PoolExecutor> executor(String runtime) {
        return Optional.ofNullable(executors.get(runtime));
    }

    /** Whether each runtime process gets a memory limit of its own (a control group). */
    public boolean limitsMemory() {
        return sandbox.limitsMemory();
    }

    /** Runtimes served, with their pools' current state. */
    public Map<String, PoolStats> stats() {
        Map<String, PoolStats> stats = new LinkedHashMap<>();
        executors.forEach((name, executor) -> stats.put(name, executor.pool().stats()));
        return stats;
    }

    /** Configured runtimes that cannot run here, with the reason. */
    public Map<String, String> unavailable() {
        return Map.copyOf(unavailable);
    }

    static RuntimeDefinition definition(String name, WorkerConfig.Runtime overrides) {
        RuntimeDefinition base = KnownRuntimes.byName(name).orElseThrow(() -> new IllegalArgumentException(
                "unknown runtime '" + name + "': execfarm ships drivers for " + KnownRuntimes.JULIA + " and "
                        + KnownRuntimes.PYTHON));
        String warmUp = KnownRuntimes.preload(name, overrides.preload().orElse(List.of()))
                + overrides.warmUp().orElse(base.warmUp());
        List<String> flags = new ArrayList<>(overrides.flags().orElse(base.flags()));
        RuntimeAccess access = new RuntimeAccess(overrides.readOnlyPaths().orElse(List.of()), List.of(),
                overrides.network());
        if (overrides.traceCompileDir().isPresent()) {
            Path dir = overrides.traceCompileDir().get();
            flags.add(traceCompileFlag(name, dir));
            access = access.withCollected(dir);
        }
        return new RuntimeDefinition(name,
                overrides.binary().orElse(base.binary()),
                flags,
                base.driverResource(),
                warmUp,
                new Confinement(
                        overrides.addressSpace().map(size -> size.asLongValue()).orElse(base.confinement().addressSpaceBytes()),
                        overrides.memoryLimit().map(size -> size.asLongValue()).orElse(base.confinement().memoryBytes()),
                        access),
                overrides.heapSizeHint().map(size -> size.asLongValue()).orElse(base.heapSizeHintBytes()),
                merged(base.env(), overrides.env()),
                overrides.startTimeout().orElse(base.startTimeout()));
    }

    private static String traceCompileFlag(String runtime, Path dir) {
        if (!runtime.equals(KnownRuntimes.JULIA)) {
            throw new IllegalArgumentException("trace-compile-dir is for julia only, not " + runtime);
        }
        try {
            Files.createDirectories(dir);
            // Written by the sandbox's per-slot uids; sticky, so none can remove another's file.
            Files.setAttribute(dir, "unix:mode", 01777);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot prepare trace-compile-dir " + dir + ": " + e.getMessage(), e);
        }
        return "--trace-compile=" + dir.resolve("trace-" + RuntimeLauncher.PROCESS_TOKEN + ".jl");
    }

    static PoolSettings poolSettings(WorkerConfig.Pool pool) {
        return new PoolSettings(pool.size(), pool.minIdle(), pool.startParallelism(), pool.maxExecutions(),
                pool.maxResident().asLongValue(), pool.reuse());
    }

    static SandboxSettings sandboxSettings(WorkerConfig.Sandbox sandbox, Map<String, Integer> slots) {
        Path workRoot = sandbox.workRoot().orElseGet(() -> Path.of(System.getProperty("java.io.tmpdir"),
                "execfarm-worker-" + ProcessHandle.current().pid()));
        return new SandboxSettings(sandbox.enabled(), workRoot, sandbox.uidBase(), sandbox.cpuSeconds(), sandbox.cpuCores(),
                sandbox.maxProcesses(), sandbox.maxFileSize().asLongValue(), sandbox.openFiles(),
                sandbox.tmpSize().asLongValue(), sandbox.path(), sandbox.passEnv(), slots, sandbox.uidLockDir());
    }

    /** A runtime's default environment with the configured variables added (a configured one wins). */
    private static Map<String, String> merged(Map<String, String> defaults, Map<String, String> configured) {
        Map<String, String> env = new LinkedHashMap<>(defaults);
        env.putAll(configured);
        return env;
    }
}
