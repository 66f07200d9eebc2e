package io.execfarm.bench;

import io.execfarm.contracts.Topics;
import io.execfarm.farm.DispatcherClient;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * End-to-end latency of a trivial snippet at each concurrency of the plan, from the client's send
 * to the client holding the result: through Kafka with the Java client ({@code client/}), to
 * the partitioned request topic and to the shared one (a share group), through the dispatcher's HTTP
 * API (which sends a request without a session to the shared topic), and through the bare baseline (Kafka, one warm Python, nothing
 * else), with the CPU each process spent per request at each level.
 */
final class LatencyBenchmark {

    static final String TRIVIAL = "1 + 1";

    enum Path {
        /** The HTTP API sends a request without a session to the shared topic (the dispatcher's default). */
        BARE("bare baseline"), KAFKA("Kafka, partitioned"), KAFKA_SHARED("Kafka, shared"), HTTP("HTTP (shared)");

        final String label;

        Path(String label) {
            this.label = label;
        }
    }

    /** One path at one concurrency, and the CPU each process spent per request meanwhile. */
    record Level(Path path, int concurrency, ClosedLoop.Run run, CpuMeter.Usage cpu) {

        Histogram latency() {
            Histogram h = histogram();
            run.replies().forEach(r -> h.recordValue(r.latencyMicros()));
            return h;
        }

        /** Latency less the execution time the worker measured: what the farm adds to running the code. */
        Histogram overhead() {
            Histogram h = histogram();
            run.replies().forEach(r -> h.recordValue(Math.max(0, r.latencyMicros() - r.timing("execMs") * 1000)));
            return h;
        }

        String label() {
            return path.label + " c=" + concurrency;
        }

        static Histogram histogram() {
            return new Histogram(600_000_000L, 3);
        }
    }

    private final BenchClient kafka;
    /** One bare hop through the broker, on plain Kafka clients. */
    private final RawClient raw;
    private final DispatcherClient http;
    private final Progress progress;
    private final Map<String, Long> processes;

    /** @param processes the processes whose CPU is measured by name (the farm's, the bare baseline's) */
    LatencyBenchmark(BenchClient kafka, RawClient raw, DispatcherClient http, Progress progress,
            Map<String, Long> processes) {
        this.kafka = kafka;
        this.raw = raw;
        this.http = http;
        this.progress = progress;
        this.processes = processes;
    }

    /** The levels, and one bare Kafka hop's latency on the same broker, for reference. */
    record Results(List<Level> levels, Histogram hop) {
    }

    Results run(Plan plan) throws Exception {
        int hops = plan.requestsAt(1);
        Progress.Counter hopCounter = progress.count("one Kafka hop (produce to consume, no worker), " + hops
                + " times", hops);
        Histogram hop = Level.histogram();
        for (int i = 0; i < hops; i++) {
            hop.recordValue(raw.hop().latencyMicros());
            hopCounter.tick();
        }
        hopCounter.end(String.format("p50 %.1f ms", hop.getValueAtPercentile(50) / 1000.0));
        List<Level> levels = new ArrayList<>();
        for (Path path : Path.values()) {
            // Fresh JVMs run the path interpreted at first; this many requests get it compiled.
            Progress.Counter warmUp = progress.count(path.label + ", warm-up, " + plan.warmUpRequests()
                    + " requests, 10 at a time", plan.warmUpRequests());
            ClosedLoop.run(10, plan.warmUpRequests(), call(path), warmUp);
            warmUp.end("done");
            for (int concurrency : plan.concurrencies()) {
                int requests = plan.requestsAt(concurrency);
                Progress.Counter counter = progress.count(path.label + ", concurrency " + concurrency + ", "
                        + requests + " requests", requests);
                CpuMeter.Reading before = CpuMeter.read(processes);
                ClosedLoop.Run run = ClosedLoop.run(concurrency, requests, call(path), counter);
                Level level = new Level(path, concurrency, run,
                        CpuMeter.between(before, CpuMeter.read(processes), requests, run.seconds()));
                Histogram latency = level.latency();
                counter.end(String.format("p50 %.1f ms, p99 %.1f ms, %.0f requests/s, %.1f ms of CPU each",
                        latency.getValueAtPercentile(50) / 1000.0, latency.getValueAtPercentile(99) / 1000.0,
                        level.run().perSecond(), level.cpu().total()));
                levels.add(level);
            }
        }
        return new Results(levels, hop);
    }

    private ClosedLoop.Call call(Path path) {
        return switch (path) {
            case BARE -> () -> kafka.submit(BareBaseline.RUNTIME, TRIVIAL, null).get(60, TimeUnit.SECONDS);
            case KAFKA -> () -> kafka.submit("python", TRIVIAL, null).get(60, TimeUnit.SECONDS);
            case KAFKA_SHARED -> () -> kafka.submitTo(Topics.sharedRequests("python"), "python", TRIVIAL, null)
                    .get(60, TimeUnit.SECONDS);
            case HTTP -> () -> HttpCall.run(http, "python", TRIVIAL);
        };
    }
}
