package io.execfarm.bench;

import io.execfarm.farm.DispatcherClient;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * End-to-end latency of a trivial snippet at each concurrency of the plan, from the client's send
 * to the client holding the result: through Kafka with plain clients (any language's producer),
 * and through the dispatcher's HTTP API.
 */
final class LatencyBenchmark {

    static final String TRIVIAL = "1 + 1";

    enum Path {
        KAFKA("Kafka"), HTTP("HTTP");

        final String label;

        Path(String label) {
            this.label = label;
        }
    }

    /** One path at one concurrency. */
    record Level(Path path, int concurrency, ClosedLoop.Run run) {

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

        private static Histogram histogram() {
            return new Histogram(600_000_000L, 3);
        }
    }

    private final BenchClient kafka;
    private final DispatcherClient http;
    private final Progress progress;

    LatencyBenchmark(BenchClient kafka, DispatcherClient http, Progress progress) {
        this.kafka = kafka;
        this.http = http;
        this.progress = progress;
    }

    List<Level> run(Plan plan) throws Exception {
        List<Level> levels = new ArrayList<>();
        for (Path path : Path.values()) {
            Progress.Counter warmUp = progress.count(path.label + ", warm-up, " + plan.warmUpRequests()
                    + " requests", plan.warmUpRequests());
            ClosedLoop.run(1, plan.warmUpRequests(), call(path), warmUp);
            warmUp.end("done");
            for (int concurrency : plan.concurrencies()) {
                int requests = plan.requestsAt(concurrency);
                Progress.Counter counter = progress.count(path.label + ", concurrency " + concurrency + ", "
                        + requests + " requests", requests);
                Level level = new Level(path, concurrency, ClosedLoop.run(concurrency, requests, call(path), counter));
                Histogram latency = level.latency();
                counter.end(String.format("p50 %.1f ms, p99 %.1f ms, %.0f requests/s",
                        latency.getValueAtPercentile(50) / 1000.0, latency.getValueAtPercentile(99) / 1000.0,
                        level.run().perSecond()));
                levels.add(level);
            }
        }
        return levels;
    }

    private ClosedLoop.Call call(Path path) {
        return switch (path) {
            case KAFKA -> () -> kafka.submit("python", TRIVIAL, null).get(60, TimeUnit.SECONDS);
            case HTTP -> () -> HttpCall.run(http, "python", TRIVIAL);
        };
    }
}
