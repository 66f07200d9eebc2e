package io.execfarm.dispatcher.config;

import io.execfarm.contracts.WireCodec;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.core.instrument.binder.jvm.JvmCompilationMetrics;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

@ApplicationScoped
public class DispatcherBeans {

    @Produces
    @Singleton
    WireCodec codec(DispatcherConfig config) {
        return new WireCodec(config.maxCodeBytes());
    }

    /** HTTP request latency as a histogram, so percentiles can be computed across instances. */
    @Produces
    @Singleton
    MeterFilter requestLatencyHistogram() {
        return new MeterFilter() {
            @Override
            public DistributionStatisticConfig configure(Meter.Id id, DistributionStatisticConfig config) {
                if (id.getName().startsWith("http.server.requests")) {
                    return DistributionStatisticConfig.builder().percentilesHistogram(true).build().merge(config);
                }
                return config;
            }
        };
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
}
