package io.execfarm.worker.intake;

import io.execfarm.worker.config.WorkerConfig;
import io.execfarm.worker.threads.DaemonThreads;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.interceptor.Interceptor;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;

/**
 * Each served runtime's {@link AdmissionGate}, sized to its pool and shared by its consumer group
 * and its share consumer, and the {@link KeyedIntake} of its consumer group, whose threads it owns.
 */
@ApplicationScoped
public class Intakes {

    private final WorkerConfig config;
    private final Map<String, AdmissionGate> gates = new ConcurrentHashMap<>();
    private final Map<String, KeyedIntake> keyed = new ConcurrentHashMap<>();

    public Intakes(WorkerConfig config) {
        this.config = config;
    }

    public AdmissionGate gate(String runtime) {
        return gates.computeIfAbsent(runtime, name -> new AdmissionGate(poolSize(name)));
    }

    public KeyedIntake keyed(String runtime) {
        return keyed.computeIfAbsent(runtime, name -> new KeyedIntake("requests-" + name, gate(name),
                poolSize(name) * config.intake().waitingPerProcess(),
                Executors.newFixedThreadPool(poolSize(name), DaemonThreads.named("execfarm-" + name + "-run"))));
    }

    private int poolSize(String runtime) {
        return config.runtime().get(runtime).pool().size();
    }

    /** Before the pools close: requests still running get the grace to finish. */
    void stop(@Observes @Priority(Interceptor.Priority.PLATFORM_BEFORE) ShutdownEvent event) {
        keyed.values().forEach(intake -> intake.close(config.intake().shutdownGrace()));
    }
}
