package io.execfarm.bench;

import io.execfarm.localinfra.LocalInfra;
import io.execfarm.localinfra.AppProcess;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import org.HdrHistogram.Histogram;

/**
 * End-to-end latency through Kafka: a plain producer publishes a trivial request, a plain consumer
 * reads its result; one real broker, one real Redis, one packaged worker, all on this machine.
 *
 * <p>Usage: {@code bench/run kafka [requests-per-level]}.
 */
public final class KafkaLatencyBenchmark {

    private static final int POOL = 10;

    public static void main(String[] args) throws Exception {
        int requests = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
        Path report = Path.of("docs/benchmarks.md");
        try (LocalInfra infra = LocalInfra.startOrReuse();
                AppProcess worker = AppProcess.worker("bench-worker", infra.kafkaBootstrap(), infra.redisUrl(), List.of(
                        "execfarm.worker.runtime.python.pool.size=" + POOL,
                        "execfarm.worker.runtime.python.pool.min-idle=" + POOL,
                        "quarkus.log.level=WARN"));
                BenchClient client = new BenchClient(infra.kafkaBootstrap())) {
            client.run(1, 200);
            StringBuilder out = new StringBuilder("## End to end through Kafka\n\n");
            out.append("Measured ").append(Instant.now()).append(" on ").append(Machine.describe())
                    .append("; one broker, one Redis, one worker (Python pool of ").append(POOL)
                    .append("), and the client, all on this machine.\n\n");
            out.append("Command: `bench/run kafka ").append(requests).append("`. Latency is from the client's ")
                    .append("send to the client reading the `result` event; the snippet is `1 + 1`.\n\n");
            out.append("| concurrency | requests | p50 ms | p90 ms | p99 ms | max ms | worker-side exec p50 (whole ms, from the result) |\n");
            out.append("|---:|---:|---:|---:|---:|---:|---:|\n");
            for (int concurrency : new int[] {1, 10}) {
                BenchClient.Outcome outcome = client.run(concurrency, requests);
                Histogram h = outcome.latency();
                out.append(String.format(Locale.ROOT, "| %d | %d | %.2f | %.2f | %.2f | %.2f | %.2f |%n", concurrency,
                        h.getTotalCount(), ms(h, 50), ms(h, 90), ms(h, 99), h.getMaxValue() / 1000.0,
                        ms(outcome.exec(), 50)));
            }
            Report.replaceSection(report, "kafka", out.toString());
            System.out.println(out);
            System.out.println("written to " + report);
        }
        System.exit(0);
    }

    private static double ms(Histogram h, double percentile) {
        return h.getValueAtPercentile(percentile) / 1000.0;
    }
}
