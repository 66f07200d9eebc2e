package io.execfarm.farm;

import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * Whether the farm's JVMs have stopped compiling: the time their JIT threads spent compiling since
 * the last look (each application's {@code jvm_compilation_time_ms_total}, the JVM's own count) per
 * second of that look. A fresh JVM compiles its request path for thousands of requests, on the
 * cores that serve them, so a latency that looks flat can still fall by a third.
 */
final class JitActivity implements BooleanSupplier {

    /** Compiling a tenth of the time or less, the JIT no longer competes with the requests to any extent that shows. */
    static final double QUIET_SHARE = 0.1;

    private final List<String> apps;
    private final Function<String, String> metrics;
    private double lastCompiledMillis;
    private long lastNanos;

    /** @param metrics an application's /q/metrics text by name (empty when it does not answer) */
    JitActivity(List<String> apps, Function<String, String> metrics) {
        this.apps = List.copyOf(apps);
        this.metrics = metrics;
        this.lastCompiledMillis = compiledMillis();
        this.lastNanos = System.nanoTime();
    }

    /** True when the JITs compiled for under {@link #QUIET_SHARE} of the time since the last call. */
    @Override
    public boolean getAsBoolean() {
        double compiled = compiledMillis();
        long now = System.nanoTime();
        double share = (compiled - lastCompiledMillis) / ((now - lastNanos) / 1e6);
        lastCompiledMillis = compiled;
        lastNanos = now;
        return share < QUIET_SHARE;
    }

    private double compiledMillis() {
        return apps.stream().flatMap(app -> PrometheusText.samples(metrics.apply(app), "jvm_compilation_time_ms_total")
                .stream()).mapToDouble(PrometheusText.Sample::value).sum();
    }
}
