package io.execfarm.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.execfarm.client.Job;
import io.execfarm.contracts.RedisKeys;
import io.execfarm.contracts.SessionRecord;
import io.execfarm.localinfra.AppProcess;
import io.execfarm.localinfra.LocalInfra;
import io.vertx.mutiny.core.Vertx;
import io.vertx.mutiny.redis.client.Redis;
import io.vertx.mutiny.redis.client.RedisAPI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import org.HdrHistogram.Histogram;

/**
 * What a session request costs on its pinned process versus the first request after the session
 * was rebuilt on a new process (its process crashed), for a session with 10 prior snippets; end to
 * end through Kafka, one broker, one Redis and one worker on this machine.
 *
 * <p>Usage: {@code bench/run session [rounds]}. Each round makes a new session, runs the 10
 * snippets, crashes its process, then times the first request (rebuild: a process from the pool
 * plus the replay of the history) and the next one (pinned).
 */
public final class SessionBenchmark {

    private static final List<String> HISTORY = List.of(
            "import json, math, re, collections, itertools",
            "data = list(range(10000))",
            "def mean(xs):\n    return sum(xs) / len(xs)",
            "class Account:\n    def __init__(self, owner, balance=0):\n        self.owner = owner\n"
                    + "        self.balance = balance\n    def deposit(self, amount):\n        self.balance += amount",
            "accounts = [Account(f'u{i}', i) for i in range(100)]",
            "index = {a.owner: a for a in accounts}",
            "pattern = re.compile(r'u(\\d+)')",
            "counts = collections.Counter(x % 7 for x in data)",
            "def answer(k):\n    return sum(index[f'u{i}'].balance for i in range(k)) + counts[3]",
            "summary = json.dumps({'mean': mean(data), 'n': len(accounts)})");
    private static final String MEASURED = "answer(10) + len(summary)";
    private static final String CRASH = "import os\nos._exit(1)";
    /**
     * Long enough for the pool to start the process that replaces one it lost or lent: on two cores
     * that start would otherwise compete with the request being timed.
     */
    private static final Duration SETTLE = Duration.ofSeconds(1);

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 30;
        Path report = Path.of("docs/benchmarks-components.md");
        Vertx vertx = Vertx.vertx();
        try (LocalInfra infra = LocalInfra.startOrReuse();
                AppProcess worker = AppProcess.worker("bench-worker", infra, List.of(
                        "execfarm.worker.runtime.python.pool.size=4",
                        "execfarm.worker.runtime.python.pool.min-idle=4",
                        "quarkus.log.level=WARN"));
                BenchClient client = new BenchClient(infra.kafkaAdmin())) {
            RedisAPI redis = RedisAPI.api(Redis.createClient(vertx, infra.redisUrl()));
            Timings pinned = new Timings();
            Timings rebuilt = new Timings();
            for (int round = -3; round < rounds; round++) {
                String session = create(redis);
                for (String snippet : HISTORY) {
                    expectOk(call(client, session, snippet));
                }
                call(client, session, CRASH);
                Thread.sleep(SETTLE.toMillis());
                long start = System.nanoTime();
                JsonNode first = expectOk(call(client, session, MEASURED));
                long firstMicros = (System.nanoTime() - start) / 1000;
                Thread.sleep(SETTLE.toMillis());
                start = System.nanoTime();
                JsonNode next = expectOk(call(client, session, MEASURED));
                long nextMicros = (System.nanoTime() - start) / 1000;
                if (round >= 0) {
                    // The first three rounds warm the JVMs up and are not counted.
                    rebuilt.record(firstMicros, first);
                    pinned.record(nextMicros, next);
                }
                System.err.printf("round %d/%d: rebuilt %.1f ms %s, pinned %.1f ms %s%n", round + 1, rounds,
                        firstMicros / 1000.0, first.get("timings"), nextMicros / 1000.0, next.get("timings"));
            }
            StringBuilder out = new StringBuilder("## Sessions: pinned versus rebuilt\n\n");
            out.append("Measured ").append(Instant.now()).append(" on ").append(Machine.describe())
                    .append("; one broker, one Redis, one worker (Python pool of 4), and the client, all on this machine.\n\n");
            out.append("Command: `bench/run session ").append(rounds).append("`. Each round makes a session, runs ")
                    .append(HISTORY.size()).append(" snippets in it (imports, data, functions, a class), kills its ")
                    .append("process (`os._exit`), then times the same request twice from the client's send to its ")
                    .append("result: first on a new process, which replays the history, then on the pinned process. ")
                    .append("Before each timed request the pool gets ").append(SETTLE.toMillis())
                    .append(" ms to replace the process it lost, so no process start competes with it for the CPU.\n\n");
            out.append("| path | requests | p50 ms | p90 ms | max ms | worker p50 ms: queued | acquire (replay included) | exec |\n");
            out.append("|---|---:|---:|---:|---:|---:|---:|---:|\n");
            pinned.row(out, "pinned");
            rebuilt.row(out, "first after a rebuild (" + HISTORY.size() + " snippets replayed)");
            out.append(String.format(Locale.ROOT, "%nRebuilt / pinned, p50: **%.1f×**. Worker timings are whole "
                    + "milliseconds, from the result; queued runs from the record's timestamp to the worker "
                    + "taking the request.%n", rebuilt.latency.getValueAtPercentile(50)
                    / (double) pinned.latency.getValueAtPercentile(50)));
            Report.replaceSection(report, "session", out.toString());
            System.out.println(out);
            System.out.println("written to " + report);
        } finally {
            vertx.closeAndAwait();
        }
        System.exit(0);
    }

    /** One path's end-to-end latencies (µs) and the worker's own timings (ms) of the same requests. */
    private static final class Timings {
        final Histogram latency = new Histogram(60_000_000L, 3);
        final Histogram queued = new Histogram(60_000L, 3);
        final Histogram acquire = new Histogram(60_000L, 3);
        final Histogram exec = new Histogram(60_000L, 3);

        void record(long micros, JsonNode result) {
            latency.recordValue(micros);
            queued.recordValue(result.at("/timings/queuedMs").asLong());
            acquire.recordValue(result.at("/timings/acquireMs").asLong());
            exec.recordValue(result.at("/timings/execMs").asLong());
        }

        void row(StringBuilder out, String name) {
            out.append(String.format(Locale.ROOT, "| %s | %d | %.2f | %.2f | %.2f | %d | %d | %d |%n", name,
                    latency.getTotalCount(), latency.getValueAtPercentile(50) / 1000.0,
                    latency.getValueAtPercentile(90) / 1000.0, latency.getMaxValue() / 1000.0,
                    queued.getValueAtPercentile(50), acquire.getValueAtPercentile(50), exec.getValueAtPercentile(50)));
        }
    }

    /** A session as the dispatcher makes one. */
    private static String create(RedisAPI redis) {
        String id = "bench-" + UUID.randomUUID();
        List<String> args = new ArrayList<>(List.of(RedisKeys.session(id)));
        new SessionRecord("bench", "python", Instant.now(), Duration.ofMinutes(10), Duration.ofHours(1), 1 << 20)
                .fields().forEach((field, value) -> {
                    args.add(field);
                    args.add(value);
                });
        redis.hsetAndAwait(args);
        redis.pexpireAndAwait(List.of(RedisKeys.session(id), "600000"));
        return id;
    }

    private static JsonNode call(BenchClient client, String session, String code) throws Exception {
        return client.call(Job.of("python", code).inSession(session));
    }

    private static JsonNode expectOk(JsonNode result) {
        if (!"ok".equals(result.path("status").asText())) {
            throw new IllegalStateException("request failed: " + result);
        }
        return result;
    }
}
