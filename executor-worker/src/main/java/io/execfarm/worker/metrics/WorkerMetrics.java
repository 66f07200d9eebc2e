package io.execfarm.worker.metrics;

import io.execfarm.contracts.Result;
import io.execfarm.worker.pool.PoolStats;
import io.execfarm.worker.pool.Retirement;
import io.execfarm.worker.pool.Pools;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.interceptor.Interceptor;
import java.time.Duration;
import java.util.Locale;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/** The worker's Prometheus metrics (at /q/metrics). */
@ApplicationScoped
public class WorkerMetrics {

    private final MeterRegistry registry;
    private final Pools pools;

    public WorkerMetrics(MeterRegistry registry, Pools pools) {
        this.registry = registry;
        this.pools = pools;
    }

    /**
     * Pool gauges, once the pools exist, and every counter at zero: a series that appears only at
     * its first increment hides that increment from rate() and from the dashboard's alerts.
     */
    void registerPools(@Observes @Priority(Interceptor.Priority.PLATFORM_BEFORE + 10) StartupEvent event) {
        pools.stats().keySet().forEach(runtime -> {
            for (Result.Status status : Result.Status.values()) {
                executions(runtime, status);
            }
            for (SandboxLimit limit : SandboxLimit.values()) {
                sandboxKills(runtime, limit);
            }
            deadLetters(runtime);
            latency(runtime);
            sessionRebuilds(runtime);
            replayedSnippets(runtime);
            gauge(runtime, "starting", PoolStats::starting);
            gauge(runtime, "idle", PoolStats::idle);
            gauge(runtime, "busy", PoolStats::busy);
            gauge(runtime, "retiring", PoolStats::retiring);
            FunctionCounter.builder("execfarm.process.restarts", pools, p -> p.stats().get(runtime).retired())
                    .description("Processes retired and replaced: worn out, grown too large, crashed, timed out or cancelled")
                    .tag("runtime", runtime)
                    .register(registry);
            for (Retirement reason : Retirement.values()) {
                FunctionCounter.builder("execfarm.process.retirements", pools,
                                p -> p.stats().get(runtime).retiredFor(reason))
                        .description("Processes retired, by why; a reason other than discarded, not-reused, worn-out, "
                                + "grew or evicted means one was found not at rest after a request or while idle")
                        .tag("runtime", runtime)
                        .tag("reason", reason.tag())
                        .register(registry);
            }
            FunctionCounter.builder("execfarm.process.start.failures", pools,
                            p -> p.stats().get(runtime).startFailures())
                    .tag("runtime", runtime)
                    .register(registry);
        });
    }

    /** The limits of the sandbox an execution can be stopped at, as the {@code limit} tag names them. */
    public enum SandboxLimit {
        MEMORY, TASKS, TIMEOUT;

        String tag() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public void executed(String runtime, Result.Status status, long queuedMs, long execNanos) {
        executions(runtime, status).increment();
        Timer.builder("execfarm.execution.time")
                .description("Time on a process, from acquiring it to the outcome")
                .tag("runtime", runtime)
                .publishPercentileHistogram()
                .register(registry)
                .record(Duration.ofNanos(execNanos));
        Timer.builder("execfarm.queue.wait")
                .description("From submission to a worker taking the request")
                .tag("runtime", runtime)
                .publishPercentileHistogram()
                .register(registry)
                .record(Duration.ofMillis(queuedMs));
    }

    /** A session was rebuilt on a new process (or caught up with another worker's requests) by replaying its history. */
    public void sessionRebuilt(String runtime, long snippetsReplayed) {
        sessionRebuilds(runtime).increment();
        replayedSnippets(runtime).increment(snippetsReplayed);
    }

    public void registerPinned(String runtime, Supplier<Number> pinned) {
        Gauge.builder("execfarm.session.pinned.processes", pinned)
                .description("Processes pinned to a session")
                .tag("runtime", runtime)
                .register(registry);
    }

    /** From submission to the result, as the worker saw it (the result's totalMs). */
    public void answered(String runtime, long totalMs) {
        latency(runtime).record(Duration.ofMillis(totalMs));
    }

    /** An execution stopped at a limit of its sandbox. */
    public void sandboxKill(String runtime, SandboxLimit limit) {
        sandboxKills(runtime, limit).increment();
    }

    public void deadLettered(String runtime) {
        deadLetters(runtime).increment();
    }

    /** A write that waited for Redis replicas ({@code ReplicatedWrites}) and was not confirmed by enough in time. */
    public void unreplicatedWrite() {
        Counter.builder("execfarm.redis.unreplicated.writes")
                .description("Writes of claims, results and session history that fewer Redis replicas confirmed "
                        + "than execfarm.worker.replicated-writes.replicas asks, within its timeout")
                .register(registry).increment();
    }

    private Counter executions(String runtime, Result.Status status) {
        return Counter.builder("execfarm.executions")
                .description("Requests finished, by runtime and result status")
                .tag("runtime", runtime)
                .tag("status", status.wireName())
                .register(registry);
    }

    private Timer latency(String runtime) {
        return Timer.builder("execfarm.execution.latency")
                .description("From submission to the result: queued, waiting for a process and running")
                .tag("runtime", runtime)
                .publishPercentileHistogram()
                .register(registry);
    }

    private Counter sandboxKills(String runtime, SandboxLimit limit) {
        return Counter.builder("execfarm.sandbox.kills")
                .description("Executions stopped at a sandbox limit: killed at the memory limit, refused processes "
                        + "at the task limit, or killed at the timeout")
                .tag("runtime", runtime)
                .tag("limit", limit.tag())
                .register(registry);
    }

    private Counter sessionRebuilds(String runtime) {
        return counter("execfarm.session.rebuilds", "Times a session was rebuilt or caught up by replaying its history",
                runtime);
    }

    private Counter replayedSnippets(String runtime) {
        return counter("execfarm.session.replayed.snippets", "History entries replayed to rebuild sessions", runtime);
    }

    private Counter deadLetters(String runtime) {
        return counter("execfarm.dead.letters", "Records sent to the dead-letter topic", runtime);
    }

    private Counter counter(String name, String description, String runtime) {
        return Counter.builder(name).description(description).tag("runtime", runtime).register(registry);
    }

    private void gauge(String runtime, String state, ToDoubleFunction<PoolStats> value) {
        Gauge.builder("execfarm.pool.processes", pools, p -> value.applyAsDouble(p.stats().get(runtime)))
                .description("Processes of a runtime's pool, by state")
                .tag("runtime", runtime)
                .tag("state", state)
                .register(registry);
    }
}
