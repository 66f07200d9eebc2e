package io.execfarm.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.execfarm.contracts.Result;
import io.execfarm.worker.runtime.ExecutionOutcome;
import io.execfarm.worker.runtime.ExecutionSpec;
import io.execfarm.worker.runtime.KnownRuntimes;
import io.execfarm.worker.runtime.OutputSink;
import io.execfarm.worker.runtime.RuntimeDefinition;
import io.execfarm.worker.runtime.RuntimeLauncher;
import io.execfarm.worker.runtime.RuntimeProcess;
import io.execfarm.worker.sandbox.Sandbox;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.HdrHistogram.Histogram;

/**
 * Julia on a system image built from the traffic the benchmark's own farm has just served: the
 * farm's workers record what their Julia processes compile (trace-compile-dir), the project's
 * script turns those recordings and the driver into an image, and the JIT-heavy snippets then run
 * on the shipped image and on the new one, alternating: in a fresh {@code julia -e CODE}, and as the
 * first request of a new sandboxed driver process started and warmed the way a pool starts one.
 */
final class SysimageBenchmark {

    private static final Duration BUILD_TIMEOUT = Duration.ofMinutes(20);

    /** Figures for one snippet, in microseconds: fresh processes, and a new pool process's first request. */
    record Row(WarmColdBenchmark.Snippet snippet, Histogram freshShipped, Histogram freshBuilt,
            Histogram firstShipped, Histogram firstBuilt) {
    }

    /**
     * @param failure      why no image was measured, or null
     * @param build        what the build reported (statements compiled, skipped, failed), or null when the
     *                     image was built before the run ({@link #prebuilt})
     * @param readyShipped how long a new pool process took to be ready (start and warm-up), shipped image
     * @param readyBuilt   the same on the built image
     */
    record Results(String failure, String build, double buildSeconds, long imageBytes, Histogram readyShipped,
            Histogram readyBuilt, List<Row> rows) {

        static Results failed(String why) {
            return new Results(why, "", 0, 0, null, null, List.of());
        }
    }

    private final Path root;
    private final Path julia;
    private final Path traceDir;
    private final Path workDir;
    private final Progress progress;

    /**
     * @param traceDir where the farm's workers wrote their --trace-compile recordings
     * @param workDir  where the image is built (readable by the sandbox's uids)
     */
    SysimageBenchmark(Path root, Path julia, Path traceDir, Path workDir, Progress progress) {
        this.root = root;
        this.julia = julia;
        this.traceDir = traceDir;
        this.workDir = workDir;
        this.progress = progress;
    }

    /** The image build, running: {@link #measure} waits for it and measures the image. */
    static final class Build {
        private final Process process;
        private final long startedNanos;
        private final CompletableFuture<Long> endedNanos;
        private final String failure;
        /** An image built before the run, measured in place of one built from the farm's traffic. */
        private final Path prebuilt;

        private Build(Process process, String failure) {
            this(process, failure, null);
        }

        private Build(Process process, String failure, Path prebuilt) {
            this.process = process;
            this.prebuilt = prebuilt;
            this.startedNanos = System.nanoTime();
            this.endedNanos = process == null ? CompletableFuture.completedFuture(startedNanos)
                    : process.onExit().thenApply(exited -> System.nanoTime());
            this.failure = failure;
        }
    }

    Results run(Plan plan) throws Exception {
        return measure(startBuild(), plan);
    }

    /**
     * An image built before the run, from the project's recorded traffic by the same script (CI's,
     * for its Julia conformance run): a smoke run measures it rather than spend minutes of CPU on
     * building another beside its other parts.
     */
    static Build prebuilt(Path image) {
        return new Build(null, null, image);
    }

    /** Starts building the image from what the farm recorded so far, and returns at once. */
    Build startBuild() throws IOException {
        List<Path> traces;
        try (Stream<Path> files = Files.list(traceDir)) {
            traces = files.filter(f -> f.toString().endsWith(".jl")).sorted().toList();
        }
        if (traces.isEmpty()) {
            return new Build(null, "the farm's workers recorded no precompile statements in " + traceDir);
        }
        Files.createDirectories(workDir);
        Files.setPosixFilePermissions(workDir, PosixFilePermissions.fromString("rwxr-xr-x"));
        progress.say("julia sysimage: building from " + traces.size() + " recordings of the farm's traffic (about 3 "
                + "minutes)");
        List<String> command = new ArrayList<>(List.of(root.resolve("deploy/julia/build-sysimage-incremental").toString(),
                image().toString()));
        traces.forEach(trace -> command.add(trace.toString()));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log().toFile());
        builder.environment().put("JULIA", julia.toString());
        return new Build(builder.start(), null);
    }

    /** Waits for the build, then measures the shipped image against the built one. */
    Results measure(Build build, Plan plan) throws Exception {
        if (build.failure != null) {
            return Results.failed(build.failure);
        }
        Path image = build.prebuilt != null ? build.prebuilt : image();
        double buildSeconds = 0;
        String report = null;
        if (build.prebuilt == null) {
            Path log = log();
            String failure = awaitBuild(build.process, log);
            buildSeconds = (build.endedNanos.get() - build.startedNanos) / 1e9;
            if (failure != null) {
                return Results.failed(failure);
            }
            Files.setPosixFilePermissions(image, PosixFilePermissions.fromString("rw-r--r--"));
            report = Files.readAllLines(log, StandardCharsets.UTF_8).stream()
                    .filter(line -> line.contains("compiled ")).map(line -> line.replaceFirst("^[^:]*: ", ""))
                    .findFirst().orElse("");
        }

        RuntimeDefinition shipped = KnownRuntimes.julia().withBinary(julia.toString());
        RuntimeDefinition built = shipped.withExtraFlags(List.of("--sysimage=" + image))
                .withConfinement(shipped.confinement().withAccess(shipped.confinement().access().withReadOnly(image)));
        Sandbox sandbox = PoolBenchmark.sandbox();
        ObjectMapper json = new ObjectMapper();
        RuntimeLauncher shippedLauncher = RuntimeLauncher.prepare(shipped, sandbox, json);
        RuntimeLauncher builtLauncher = RuntimeLauncher.prepare(built, sandbox, json);
        Histogram readyShipped = WarmColdBenchmark.histogram();
        Histogram readyBuilt = WarmColdBenchmark.histogram();
        // A smoke run only proves both images start and answer.
        int freshRepeats = plan.smoke() ? 1 : Math.min(plan.warmColdRepeats(), 5);
        // A new pool process takes seconds to start; the quick plan starts one per snippet and image.
        int poolRepeats = Math.max(1, Math.min(3, plan.warmColdRepeats() / 5));
        // A smoke run's figures mean nothing: one JIT-heavy snippet proves that both images answer it.
        List<WarmColdBenchmark.Snippet> snippets = plan.smoke()
                ? WarmColdBenchmark.JULIA.subList(WarmColdBenchmark.JULIA.size() - 1, WarmColdBenchmark.JULIA.size())
                : WarmColdBenchmark.JULIA;
        List<Row> rows = new ArrayList<>();
        for (WarmColdBenchmark.Snippet snippet : snippets) {
            Progress.Counter counter = progress.count("julia sysimage, " + snippet.name() + ": " + freshRepeats
                    + " fresh processes and " + poolRepeats + " new pool processes on each image",
                    2 * (freshRepeats + poolRepeats));
            Row row = new Row(snippet, WarmColdBenchmark.histogram(), WarmColdBenchmark.histogram(),
                    WarmColdBenchmark.histogram(), WarmColdBenchmark.histogram());
            for (int i = 0; i < freshRepeats; i++) {
                row.freshShipped().recordValue(fresh(shipped, snippet));
                counter.tick();
                row.freshBuilt().recordValue(fresh(built, snippet));
                counter.tick();
            }
            for (int i = 0; i < poolRepeats; i++) {
                firstRequest(shippedLauncher, snippet, readyShipped, row.firstShipped());
                counter.tick();
                firstRequest(builtLauncher, snippet, readyBuilt, row.firstBuilt());
                counter.tick();
            }
            counter.end(String.format("fresh p50 %.0f → %.0f ms, new process's first request p50 %.0f → %.0f ms",
                    ms(row.freshShipped()), ms(row.freshBuilt()), ms(row.firstShipped()), ms(row.firstBuilt())));
            rows.add(row);
        }
        return new Results(null, report, buildSeconds, Files.size(image), readyShipped, readyBuilt, rows);
    }

    private Path image() {
        return workDir.resolve("execfarm-sysimage.so");
    }

    private Path log() {
        return workDir.resolve("build.log");
    }

    /** Null when the build wrote its image, else why not. */
    private static String awaitBuild(Process process, Path log) throws IOException, InterruptedException {
        if (!process.waitFor(BUILD_TIMEOUT.toMinutes(), TimeUnit.MINUTES)) {
            process.destroyForcibly();
            return "the image build took longer than " + BUILD_TIMEOUT.toMinutes() + " minutes";
        }
        if (process.exitValue() != 0) {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return "the image build failed: " + String.join("\n", lines.subList(Math.max(0, lines.size() - 20),
                    lines.size()));
        }
        return null;
    }

    /** A fresh {@code julia FLAGS -e CODE} with the definition's flags; microseconds from start to exit. */
    private long fresh(RuntimeDefinition definition, WarmColdBenchmark.Snippet snippet) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(definition.binary());
        command.addAll(definition.flags());
        command.addAll(List.of("-e", snippet.code()));
        return WarmColdBenchmark.freshProcess(command);
    }

    /** Starts a pool process the way a pool does (start, warm-up) and times that and its first request. */
    private static void firstRequest(RuntimeLauncher launcher, WarmColdBenchmark.Snippet snippet, Histogram ready,
            Histogram first) throws Exception {
        long start = System.nanoTime();
        RuntimeProcess process = launcher.start(0);
        long warm = System.nanoTime();
        try {
            ExecutionOutcome outcome = process.execute(new ExecutionSpec(UUID.randomUUID().toString(), snippet.code(),
                    null, 1 << 20, Duration.ofMinutes(5)), OutputSink.DISCARD);
            if (outcome.status() != Result.Status.OK) {
                throw new IllegalStateException("julia " + snippet.name() + " failed on a new process: " + outcome);
            }
            first.recordValue((System.nanoTime() - warm) / 1000);
            ready.recordValue((warm - start) / 1000);
        } finally {
            launcher.dispose(process);
        }
    }

    private static double ms(Histogram h) {
        return h.getValueAtPercentile(50) / 1000.0;
    }
}
