package io.execfarm.bench;

import io.execfarm.farm.DispatcherClient;
import io.execfarm.worker.runtime.KnownRuntimes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * The same snippets on the farm's warm processes and on a fresh runtime process per request, the
 * way a naive executor runs them ({@code python3 -c CODE}, {@code julia -e CODE}), in one run.
 */
final class WarmColdBenchmark {

    /** A snippet, and the command a naive executor would run it with (the code is its last argument). */
    record Snippet(String runtime, String name, String code) {
    }

    /**
     * Client-measured latencies of one snippet: through the farm by each path, and in fresh
     * processes, with the interpreter's default flags and with the flags the farm's processes get.
     */
    record Row(Snippet snippet, Histogram kafka, Histogram http, Histogram fresh, Histogram freshFarmFlags) {

        /** How many times longer a fresh process takes than the farm through Kafka (p50 against p50). */
        double ratio() {
            return fresh.getValueAtPercentile(50) / (double) kafka.getValueAtPercentile(50);
        }
    }

    static final List<Snippet> PYTHON = List.of(
            new Snippet("python", "trivial expression", "1 + 1"),
            new Snippet("python", "parse and summarise JSON", "import json, statistics\n"
                    + "statistics.mean(json.loads(json.dumps(list(range(1000)))))"),
            new Snippet("python", "import a stack of modules", "import asyncio, decimal, email.mime.text, "
                    + "http.client, xml.dom.minidom, unittest, argparse\nlen(dir(asyncio))"),
            new Snippet("python", "compute for a while", "sum(i * i for i in range(200000))"));
    /** Julia: a trivial expression, and snippets that pay Julia's JIT on first use of common paths. */
    static final List<Snippet> JULIA = List.of(
            new Snippet("julia", "trivial expression", "1 + 1"),
            new Snippet("julia", "Printf and string formatting", "using Printf\n"
                    + "length(join([@sprintf(\"%05.2f|%s\", x, uppercase(string(x))) for x in 0.5:0.5:50], \",\"))"),
            new Snippet("julia", "sort and Dict work", "d = Dict(string(i) => i for i in 1:1000)\n"
                    + "first(sort(collect(values(d)); rev = true)) + length(d)"),
            new Snippet("julia", "LinearAlgebra, 200×200 product", "using LinearAlgebra\nA = rand(200, 200)\n"
                    + "size(A * A', 1) + (norm(A) > 0)"),
            new Snippet("julia", "Statistics on random data", "using Statistics\nx = rand(10^5)\n"
                    + "(round(mean(x); digits = 1), round(std(x); digits = 1), median(x) > 0)"));

    private final BenchClient kafka;
    private final DispatcherClient http;
    private final Progress progress;
    private final Optional<Path> julia;

    /** {@code julia}: the interpreter the farm's workers run, when they serve Julia. */
    WarmColdBenchmark(BenchClient kafka, DispatcherClient http, Progress progress, Optional<Path> julia) {
        this.kafka = kafka;
        this.http = http;
        this.progress = progress;
        this.julia = julia;
    }

    /** Whether these rows measured Julia. */
    static boolean coversJulia(List<Row> rows) {
        return rows.stream().anyMatch(row -> row.snippet().runtime().equals("julia"));
    }

    List<Row> run(Plan plan) throws Exception {
        List<Snippet> snippets = new ArrayList<>(PYTHON);
        if (julia.isPresent()) {
            snippets.addAll(JULIA);
        } else {
            progress.say("the farm serves no Julia: the warm/cold comparison covers Python only; the JULIA rows are "
                    + "MISSING from this run");
        }
        List<Row> rows = new ArrayList<>();
        for (Snippet snippet : snippets) {
            // Fresh Julia processes take seconds each; a few give a stable median.
            int fresh = snippet.runtime().equals("julia") ? Math.min(plan.warmColdRepeats(), 5) : plan.warmColdRepeats();
            Progress.Counter counter = progress.count(snippet.runtime() + ", " + snippet.name() + ": "
                    + plan.warmColdRepeats() + " through Kafka, " + plan.warmColdRepeats() + " through HTTP, " + fresh
                    + " fresh processes with each set of flags", 2 * plan.warmColdRepeats() + 2 * fresh);
            kafka.submit(snippet.runtime(), snippet.code(), null).get(5, TimeUnit.MINUTES).requireOk();
            Histogram viaKafka = histogram();
            Histogram viaHttp = histogram();
            Histogram cold = histogram();
            Histogram coldFarmFlags = histogram();
            for (int i = 0; i < plan.warmColdRepeats(); i++) {
                viaKafka.recordValue(kafka.submit(snippet.runtime(), snippet.code(), null)
                        .get(5, TimeUnit.MINUTES).requireOk().latencyMicros());
                counter.tick();
                viaHttp.recordValue(HttpCall.run(http, snippet.runtime(), snippet.code()).requireOk().latencyMicros());
                counter.tick();
            }
            for (int i = 0; i < fresh; i++) {
                cold.recordValue(freshProcess(freshCommand(snippet, false)));
                counter.tick();
                coldFarmFlags.recordValue(freshProcess(freshCommand(snippet, true)));
                counter.tick();
            }
            Row row = new Row(snippet, viaKafka, viaHttp, cold, coldFarmFlags);
            counter.end(String.format("fresh p50 %.1f ms, farm p50 %.1f ms (Kafka): %.1f×",
                    cold.getValueAtPercentile(50) / 1000.0, viaKafka.getValueAtPercentile(50) / 1000.0, row.ratio()));
            rows.add(row);
        }
        return rows;
    }

    /**
     * How a naive executor runs the snippet: a fresh interpreter with its default flags (Julia: no
     * start-up or history file), or with the flags the farm starts its processes with.
     */
    List<String> freshCommand(Snippet snippet, boolean farmFlags) {
        boolean isJulia = snippet.runtime().equals("julia");
        List<String> command = new ArrayList<>();
        command.add(isJulia ? julia.orElseThrow().toString() : python());
        if (farmFlags) {
            command.addAll(KnownRuntimes.byName(snippet.runtime()).orElseThrow().flags());
        } else if (isJulia) {
            command.addAll(List.of("--startup-file=no", "--history-file=no"));
        }
        command.addAll(List.of(isJulia ? "-e" : "-c", snippet.code()));
        return command;
    }

    /**
     * The interpreter the workers run: the first python3 on the sandbox's PATH. Not the caller's
     * PATH, where a version manager's shim (pyenv's is a shell script) would add its own start-up.
     */
    static String python() {
        for (String dir : List.of("/usr/local/bin", "/usr/bin", "/bin")) {
            Path candidate = Path.of(dir, "python3");
            if (Files.isExecutable(candidate)) {
                return candidate.toString();
            }
        }
        return "python3";
    }

    /** Runs the snippet in a new process and waits for it to exit; microseconds from start to exit. */
    static long freshProcess(List<String> command) throws Exception {
        long start = System.nanoTime();
        Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (!process.waitFor(5, TimeUnit.MINUTES) || process.exitValue() != 0) {
            process.destroyForcibly();
            throw new IllegalStateException("a fresh process failed: " + String.join(" ", command));
        }
        return (System.nanoTime() - start) / 1000;
    }

    /** Microseconds up to ten minutes, three significant digits. */
    static Histogram histogram() {
        return new Histogram(600_000_000L, 3);
    }
}
