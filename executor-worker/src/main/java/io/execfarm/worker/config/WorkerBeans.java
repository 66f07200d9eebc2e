package io.execfarm.worker.config;

import io.execfarm.contracts.WireCodec;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.core.instrument.binder.jvm.JvmCompilationMetrics;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.net.InetAddress;
import java.net.UnknownHostException;

/** Shared values built once from configuration. */
@ApplicationScoped
public class WorkerBeans {

    @Produces
    @Singleton
    WireCodec codec(WorkerConfig config) {
        return new WireCodec(config.maxCodeBytes());
    }

    @Produces
    @Singleton
    WorkerId workerId(WorkerConfig config) {
        return new WorkerId(config.id().orElseGet(() -> hostName() + ":" + ProcessHandle.current().pid()));
    }

    /**
     * {@code jvm_compilation_time_ms_total}: the JIT's work so far. A fresh JVM compiles its request
     * path for thousands of requests, on the same cores that serve them; {@code ./farm up} warms the
     * farm until this stops growing.
     */
    @Produces
    @Singleton
    MeterBinder jitCompilation() {
        return new JvmCompilationMetrics();
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "worker";
        }
    }
}
