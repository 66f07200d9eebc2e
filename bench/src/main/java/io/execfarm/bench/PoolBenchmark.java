package io.execfarm.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.execfarm.contracts.Result;
import io.execfarm.worker.pool.CancelSignal;
import io.execfarm.worker.pool.PoolExecutor;
import io.execfarm.worker.pool.PoolSettings;
import io.execfarm.worker.pool.ProcessPool;
import io.execfarm.worker.pool.ReusePolicy;
import io.execfarm.worker.pool.RuntimeProcessSource;
import io.execfarm.worker.pool.TimedOutcome;
import io.execfarm.worker.runtime.ExecutionSpec;
import io.execfarm.worker.runtime.KnownRuntimes;
import io.execfarm.worker.runtime.OutputSink;
import io.execfarm.worker.runtime.RuntimeDefinition;
import io.execfarm.worker.runtime.RuntimeLauncher;
import io.execfarm.worker.runtime.RuntimeProcess;
import io.execfarm.worker.runtime.RuntimeUnavailableException;
import io.execfarm.worker.sandbox.Isolation;
import io.execfarm.worker.sandbox.Sandbox;
import io.execfarm.worker.sandbox.SandboxSettings;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.UUID;
import org.HdrHistogram.Histogram;

/**
 * Warm pool versus a fresh process per request, on the same trivial snippet, in one run; and what
 * the sandbox's strongest isolation (bubblewrap, seccomp, control groups) costs against the
 * namespaces-and-uid one it replaced, process start and warm path alike.
 *
 * <p>Usage: {@code bench/run pool [warm-requests] [cold-requests]}; writes the pool section of
 * docs/benchmarks-components.md.
 */
public final class PoolBenchmark {

    private record Stats(Histogram histogram) {
        double p50() {
            return histogram.getValueAtPercentile(50) / 1000.0;
        }

        double p99() {
            return histogram.getValueAtPercentile(99) / 1000.0;
        }
    }

    /** {@code naiveArgs} follow the interpreter the pool resolved, so both paths run the same binary. */
    private record RuntimeCase(RuntimeDefinition definition, String snippet, List<String> naiveArgs) {
    }

    public static void main(String[] args) throws Exception {
        int warmRequests = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
        int coldRequests = args.length > 1 ? Integer.parseInt(args[1]) : 50;
        Path report = Path.of(args.length > 2 ? args[2] : "docs/benchmarks-components.md");
        StringBuilder out = new StringBuilder();
        out.append("## Warm pool versus a fresh process per request\n\n");
        out.append("Measured ").append(Instant.now()).append(" on ").append(Machine.describe()).append(", at two ")
                .append("sandbox isolations: ").append(ISOLATIONS).append(".\n\n");
        out.append("Command: `bench/run pool ").append(warmRequests).append(' ').append(coldRequests).append("`. ")
                .append("Each figure is from this one run; compare ratios, not absolute numbers, across runs.\n\n");

        List<RuntimeCase> cases = List.of(
                new RuntimeCase(KnownRuntimes.python(), "1 + 1", List.of("-c", "print(1 + 1)")),
                // EXECFARM_JULIA_BINARY, as for the conformance suite: e.g. deploy/julia/install-julia's.
                new RuntimeCase(KnownRuntimes.julia().withBinary(System.getenv().getOrDefault("EXECFARM_JULIA_BINARY",
                        "julia")), "1 + 1", List.of("--startup-file=no", "-e", "println(1 + 1)")));
        StringBuilder cost = new StringBuilder();
        cost.append("### What the strongest isolation costs\n\n| runtime | isolation | warm pool p50 ms | warm path ")
                .append("overhead p50 ms | new process ready (start, warm-up) and first request p50 ms |\n")
                .append("|---|---|---:|---:|---:|\n");
        for (RuntimeCase c : cases) {
            for (Isolation isolation : ISOLATIONS) {
                // Exactly this isolation, or no figures: a weaker one would be measured under its name.
                Sandbox sandbox = sandbox(isolation, isolation);
                Measured measured = benchmark(c, sandbox, warmRequests, coldRequests);
                sandbox.close();
                out.append(measured.section());
                if (measured.warm() != null) {
                    cost.append(String.format(Locale.ROOT, "| %s | %s | %.3f | %.3f | %.1f |%n", c.definition().name(),
                            isolation, measured.warm().p50(), measured.overhead().p50(), measured.fresh().p50()));
                }
            }
        }
        out.append(cost).append('\n');
        Report.replaceSection(report, "pool", out.toString());
        System.out.println(out);
        System.out.println("written to " + report);
        System.exit(0);
    }

    /** The isolation the sandbox had before bubblewrap, and the strongest. */
    private static final List<Isolation> ISOLATIONS = List.of(Isolation.NAMESPACES_AND_UID, Isolation.BUBBLEWRAP_AND_UID);

    /** One runtime at one isolation: its report section, and the figures compared across isolations. */
    private record Measured(String section, Stats warm, Stats overhead, Stats fresh) {
    }

    /** A sandbox of the benchmark's own, as strong as this machine allows. */
    static Sandbox sandbox() throws IOException {
        return sandbox(Isolation.BUBBLEWRAP_AND_UID, Isolation.NONE);
    }

    /** A sandbox of the benchmark's own, with uids no worker's default configuration uses. */
    private static Sandbox sandbox(Isolation strongest, Isolation weakest) throws IOException {
        Path workRoot = Files.createTempDirectory("execfarm-bench-");
        return Sandbox.create(new SandboxSettings(true, workRoot, 63000, 3600, 1.0, 256, 64L << 20, 1024,
                SandboxSettings.DEFAULT_TMP_BYTES, SandboxSettings.DEFAULT_PATH, SandboxSettings.DEFAULT_PASS_ENV,
                Map.of("julia", 2, "python", 2), SandboxSettings.DEFAULT_UID_LOCK_DIR), strongest, weakest);
    }

    private static Measured benchmark(RuntimeCase c, Sandbox sandbox, int warmRequests, int coldRequests)
            throws Exception {
        String name = c.definition().name();
        RuntimeLauncher launcher;
        try {
            launcher = RuntimeLauncher.prepare(c.definition(), sandbox, new ObjectMapper());
        } catch (RuntimeUnavailableException e) {
            return new Measured("### " + name + "\n\nNot measured: " + e.getMessage() + "\n\n", null, null, null);
        }
        ProcessPool<RuntimeProcess> pool = new ProcessPool<>(name, new PoolSettings(2, 2, 2, 1_000_000, 0,
                ReusePolicy.TENANT), new RuntimeProcessSource(launcher));
        pool.open();
        PoolExecutor executor = new PoolExecutor(pool, Duration.ofMinutes(5));

        Histogram warm = histogram();
        Histogram acquire = histogram();
        Histogram eval = histogram();
        Histogram overhead = histogram();
        long[] cpuBefore = null;
        for (int i = -warmRequests / 10; i < warmRequests; i++) {
            if (i == 0) {
                cpuBefore = cpuNanos();
            }
            long start = System.nanoTime();
            TimedOutcome outcome = executor.execute(spec(c.snippet()), "bench", OutputSink.DISCARD, new CancelSignal());
            long micros = (System.nanoTime() - start) / 1000;
            if (outcome.outcome().status() != Result.Status.OK) {
                throw new IllegalStateException(name + " warm request failed: " + outcome.outcome());
            }
            if (i >= 0) {
                warm.recordValue(micros);
                acquire.recordValue(outcome.acquireNanos() / 1000);
                eval.recordValue(outcome.outcome().evalMicros());
                overhead.recordValue(Math.max(0, micros - outcome.outcome().evalMicros()));
            }
        }
        long[] cpuAfter = cpuNanos();
        executor.close();

        List<String> naiveCommand = new java.util.ArrayList<>(List.of(launcher.interpreter()));
        naiveCommand.addAll(c.naiveArgs());
        Histogram naive = histogram();
        for (int i = 0; i < coldRequests; i++) {
            long start = System.nanoTime();
            runNaive(naiveCommand);
            naive.recordValue((System.nanoTime() - start) / 1000);
        }
        Histogram freshSandboxed = histogram();
        for (int i = 0; i < Math.max(3, coldRequests / 5); i++) {
            long start = System.nanoTime();
            RuntimeProcess process = launcher.start(0);
            process.execute(spec(c.snippet()), OutputSink.DISCARD);
            freshSandboxed.recordValue((System.nanoTime() - start) / 1000);
            launcher.dispose(process);
        }

        Stats w = new Stats(warm);
        Stats n = new Stats(naive);
        StringBuilder s = new StringBuilder();
        s.append("### ").append(name).append(' ').append(launcher.version()).append(", ").append(sandbox.isolation())
                .append("\n\n");
        s.append("| path | requests | p50 ms | p99 ms |\n|---|---:|---:|---:|\n");
        row(s, "warm pool: acquire, execute, outcome back (clean-up runs after)", warm.getTotalCount(), w);
        row(s, "  of which pool acquire", acquire.getTotalCount(), new Stats(acquire));
        row(s, "  of which the driver's own evaluation", eval.getTotalCount(), new Stats(eval));
        row(s, "  warm path overhead (total minus evaluation)", overhead.getTotalCount(), new Stats(overhead));
        row(s, "fresh `" + String.join(" ", naiveCommand) + "` per request (a naive executor)", naive.getTotalCount(), n);
        row(s, "fresh sandboxed driver per request (start, warm-up, execute)", freshSandboxed.getTotalCount(),
                new Stats(freshSandboxed));
        s.append(String.format(Locale.ROOT, "%nCPU per warm request: the worker's JVM %.3f ms, the runtime processes "
                + "(everything the worker started) %.3f ms.%n", (cpuAfter[0] - cpuBefore[0]) / 1e6 / warm.getTotalCount(),
                (cpuAfter[1] - cpuBefore[1]) / 1e6 / warm.getTotalCount()));
        s.append(String.format(Locale.ROOT, "%nFresh process / warm pool, p50: **%.0f×**; p99: **%.0f×**. "
                + "Warm-path overhead p50: **%.3f ms** (goal ≤ 1 ms).%n%n", n.p50() / w.p50(), n.p99() / w.p99(),
                new Stats(overhead).p50()));
        return new Measured(s.toString(), w, new Stats(overhead), new Stats(freshSandboxed));
    }

    /**
     * CPU used so far, in nanoseconds: by this JVM, and by every process it started (their user and
     * system time from /proc, in clock ticks of 10 ms).
     */
    private static long[] cpuNanos() {
        long jvm = ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime();
        long ticks = ProcessHandle.current().descendants().mapToLong(h -> {
            try {
                String stat = java.nio.file.Files.readString(java.nio.file.Path.of("/proc", Long.toString(h.pid()), "stat"));
                String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
            } catch (java.io.IOException | RuntimeException e) {
                return 0;
            }
        }).sum();
        return new long[] {jvm, ticks * 10_000_000L};
    }

    private static void row(StringBuilder s, String label, long count, Stats stats) {
        s.append(String.format(Locale.ROOT, "| %s | %d | %.3f | %.3f |%n", label, count, stats.p50(), stats.p99()));
    }

    private static Histogram histogram() {
        return new Histogram(3_600_000_000L, 3);
    }

    private static ExecutionSpec spec(String code) {
        return new ExecutionSpec(UUID.randomUUID().toString(), code, null, 1 << 20, Duration.ofMinutes(5));
    }

    private static void runNaive(List<String> command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (process.waitFor() != 0 || !output.strip().equals("2")) {
            throw new IllegalStateException("naive run of " + command + " failed: " + output);
        }
    }
}
