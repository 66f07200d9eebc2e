package io.execfarm.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.execfarm.accounts.KafkaLogin;
import io.execfarm.client.ClientSettings;
import io.execfarm.client.Execution;
import io.execfarm.client.FarmClient;
import io.execfarm.client.Job;
import io.execfarm.contracts.Result;
import io.execfarm.localinfra.LocalInfra;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * What the Java client ({@code client/}) costs an execution over the plain Kafka clients it is built
 * on: the same requests, answered by the bare baseline (no worker, no Redis: what is left is the
 * clients and one broker), through {@link RawClient} (a producer, a consumer, results correlated by
 * id, nothing else) and through {@link FarmClient} (ordering, duplicates, deadlines, backpressure,
 * the wire codec), in alternating rounds of one run. Latency one at a time, and this JVM's CPU per
 * execution with many in flight. Writes the {@code client} section of docs/benchmarks.md.
 */
public final class ClientCostBenchmark {

    private static final String TRIVIAL = "1";
    private static final JsonNode OK = JsonNodeFactory.instance.objectNode().put("status", "ok");
    private static final int ROUNDS = 4;
    private static final int CONCURRENCY = 32;

    private record Measured(String client, Histogram latency, double cpuMsEach, double perSecond) {
    }

    public static void main(String[] args) throws Exception {
        int requests = args.length > 0 ? Integer.parseInt(args[0]) : 3000;
        Path root = Path.of(System.getProperty("execfarm.repo.root", ".")).toAbsolutePath().normalize();
        Progress progress = new Progress(System.err);
        List<Measured> measured = new ArrayList<>();
        try (LocalInfra infra = LocalInfra.startOrReuse();
                BareBaseline bare = BareBaseline.start(infra.kafkaAdmin(), 24)) {
            KafkaLogin admin = infra.kafkaAdmin();
            for (int round = 1; round <= ROUNDS; round++) {
                try (RawClient raw = new RawClient(admin)) {
                    measured.add(measure("plain Kafka clients", () -> raw.submit(BareBaseline.RUNTIME, TRIVIAL)
                            .get(60, TimeUnit.SECONDS), requests, bare, progress, round));
                }
                try (FarmClient client = FarmClient.connect(ClientSettings.direct("bench", admin.clientSettings())
                        .withSharedSessionless(false))) {
                    measured.add(measure("the Java client", () -> reply(client.execute(Job.of(BareBaseline.RUNTIME,
                            TRIVIAL)).get(60, TimeUnit.SECONDS)), requests, bare, progress, round));
                }
            }
        }
        String section = render(measured, requests);
        Report.replaceSection(root.resolve("docs/benchmarks.md"), "client", section);
        System.out.println(section);
    }

    private static Measured measure(String name, ClosedLoop.Call call, int requests, BareBaseline bare,
            Progress progress, int round) throws Exception {
        Progress.Counter warmUp = progress.count(name + ", round " + round + ", warm-up", requests);
        ClosedLoop.run(CONCURRENCY, requests, call, warmUp);
        warmUp.end("done");
        Progress.Counter oneAtATime = progress.count(name + ", one at a time", requests / 4);
        Histogram latency = new Histogram(TimeUnit.SECONDS.toMicros(60), 3);
        ClosedLoop.run(1, requests / 4, call, oneAtATime).replies()
                .forEach(r -> latency.recordValue(r.latencyMicros()));
        oneAtATime.end(String.format(Locale.ROOT, "p50 %.2f ms", latency.getValueAtPercentile(50) / 1000.0));
        Progress.Counter many = progress.count(name + ", " + CONCURRENCY + " in flight", requests);
        Map<String, Long> processes = Map.of("bare baseline", bare.pid());
        CpuMeter.Reading before = CpuMeter.read(processes);
        ClosedLoop.Run run = ClosedLoop.run(CONCURRENCY, requests, call, many);
        CpuMeter.Usage usage = CpuMeter.between(before, CpuMeter.read(processes), requests, run.seconds());
        double cpu = usage.msPerRequest().getOrDefault(CpuMeter.CLIENT, 0.0);
        many.end(String.format(Locale.ROOT, "%.0f/s, %.3f ms of this JVM's CPU each", run.perSecond(), cpu));
        return new Measured(name, latency, cpu, run.perSecond());
    }

    /** The execution as the benchmark loop takes it, without rendering its result to JSON (the benchmark's cost). */
    private static Reply reply(Execution execution) {
        JsonNode result = execution.status() == Result.Status.OK ? OK
                : JsonNodeFactory.instance.objectNode().put("status", execution.status().wireName());
        return new Reply(result, execution.sentNanos(), 0, 0, execution.answeredNanos(), 0);
    }

    private static String render(List<Measured> measured, int requests) {
        StringBuilder md = new StringBuilder(String.format(Locale.ROOT, """
                ### The Java client's own cost (`bench/run client %d`)

                Measured %s on %d cores, Java %s. The same trivial request answered by the bare baseline (no
                worker, no Redis), through plain Kafka clients correlating results by id (`RawClient`) and through
                the Java client (`FarmClient`), in alternating rounds of one run on one broker. Latency: one request at a time, %d each. CPU: this
                JVM's (the client's) per execution with %d in flight, %d each, after a warm-up of as many.

                | round | client | p50 ms | p99 ms | executions/s | client CPU ms each |
                |---:|---|---:|---:|---:|---:|
                """, requests, Instant.now().truncatedTo(ChronoUnit.SECONDS),
                Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"), requests / 4, CONCURRENCY,
                requests));
        for (int i = 0; i < measured.size(); i++) {
            Measured m = measured.get(i);
            md.append(String.format(Locale.ROOT, "| %d | %s | %.2f | %.2f | %.0f | %.3f |%n", i / 2 + 1, m.client(),
                    m.latency().getValueAtPercentile(50) / 1000.0, m.latency().getValueAtPercentile(99) / 1000.0,
                    m.perSecond(), m.cpuMsEach()));
        }
        md.append("\nRatios, the Java client over plain clients, round by round (p50, CPU each): ");
        List<String> ratios = new ArrayList<>();
        for (int i = 0; i + 1 < measured.size(); i += 2) {
            Measured raw = measured.get(i);
            Measured client = measured.get(i + 1);
            double p50 = (double) client.latency().getValueAtPercentile(50) / raw.latency().getValueAtPercentile(50);
            ratios.add(String.format(Locale.ROOT, "%.2f× and %.2f×", p50, client.cpuMsEach() / raw.cpuMsEach()));
        }
        return md.append(String.join("; ", ratios)).append(".\n").toString();
    }
}
