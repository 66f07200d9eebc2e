package io.execfarm.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.execfarm.client.Job;
import io.execfarm.contracts.InputFile;
import io.execfarm.farm.DispatcherClient;
import io.execfarm.farm.LocalFarm;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.HdrHistogram.Histogram;

/**
 * What files cost a request: a trivial request, one that brings a 1 MB file (inline) and reads
 * it, and one that writes a 1 MB file and collects it (it rides in the result), through Kafka (the
 * Java client) and through HTTP ({@code ?wait=true}), one request at a time,
 * the kinds in turns so a noisy machine's drift falls on all of them. One worker, Python only.
 */
final class FilesBenchmark {

    /** One kind of request. */
    enum Kind {
        TRIVIAL("trivial"), FILE_IN("1 MB file in"), FILE_OUT("1 MB file collected");

        final String label;

        Kind(String label) {
            this.label = label;
        }
    }

    /** Latencies by path and kind, in µs. */
    record Results(Map<String, Map<Kind, Histogram>> byPath, int rounds) {

        String render(String command) {
            StringBuilder out = new StringBuilder("## What files cost a request: `").append(command).append("`\n\n")
                    .append("Measured ").append(java.time.Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS))
                    .append(" on ").append(Machine.describe()).append(". One worker serving Python, one request at a "
                            + "time, ").append(rounds).append(" of each kind in turns after a warm-up: a trivial request; "
                            + "one bringing a 1 MB file inline (base64 in the request: 1.33 MB) whose code reads it; one "
                            + "whose code writes a 1 MB file that the request collects (inline in the result). Kafka: the "
                            + "Java client (`client/`), straight to the runtime topics; HTTP: `POST /v1/executions?wait=true`.\n\n")
                    .append("| path | request | p50 ms | p99 ms | p50 added over trivial ms |\n|---|---|---:|---:|---:|\n");
            byPath.forEach((path, kinds) -> {
                double trivial = ms(kinds.get(Kind.TRIVIAL), 50);
                kinds.forEach((kind, h) -> out.append(String.format(Locale.ROOT, "| %s | %s | %.1f | %.1f | %s |%n", path,
                        kind.label, ms(h, 50), ms(h, 99), kind == Kind.TRIVIAL ? "" : String.format(Locale.ROOT, "%.1f",
                                ms(h, 50) - trivial))));
            });
            return out.toString();
        }

        private static double ms(Histogram h, double percentile) {
            return h.getValueAtPercentile(percentile) / 1000.0;
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MB = 1_000_000;
    private static final String READ = "len(open('in.bin', 'rb').read())";
    private static final String WRITE = "open('out.bin', 'wb').write(bytes(" + MB + "))";

    private final LocalFarm farm;
    private final Progress progress;
    private final String megabyte;

    FilesBenchmark(LocalFarm farm, Progress progress) {
        this.farm = farm;
        this.progress = progress;
        byte[] content = new byte[MB];
        new Random(7).nextBytes(content);
        this.megabyte = Base64.getEncoder().encodeToString(content);
    }

    Results run(Map<String, String> workerSettings, int rounds, int warmUp) throws Exception {
        Map<String, String> pythonOnly = new LinkedHashMap<>(workerSettings);
        pythonOnly.put("EXECFARM_JULIA", "false");
        farm.up(1, pythonOnly, Map.of(), LocalFarm.Warm.POOLS);
        Map<String, Map<Kind, Histogram>> byPath = new LinkedHashMap<>();
        try (BenchClient kafka = new BenchClient(farm.kafkaAdmin())) {
            DispatcherClient http = farm.client();
            for (String path : List.of("Kafka", "HTTP")) {
                Map<Kind, Histogram> kinds = new LinkedHashMap<>();
                for (Kind kind : Kind.values()) {
                    kinds.put(kind, LatencyBenchmark.Level.histogram());
                }
                Progress.Counter counter = progress.count("files through " + path + ": " + warmUp
                        + " rounds of warm-up, then " + rounds, warmUp + rounds);
                for (int round = -warmUp; round < rounds; round++) {
                    for (Kind kind : Kind.values()) {
                        long took = path.equals("Kafka") ? viaKafka(kafka, kind) : viaHttp(http, kind);
                        if (round >= 0) {
                            kinds.get(kind).recordValue(took);
                        }
                    }
                    counter.tick();
                }
                counter.end("done");
                byPath.put(path, kinds);
            }
        } finally {
            farm.down();
        }
        return new Results(byPath, rounds);
    }

    private ObjectNode body(Kind kind) {
        ObjectNode body = JSON.createObjectNode().put("runtime", "python");
        switch (kind) {
            case TRIVIAL -> body.put("code", "1");
            case FILE_IN -> {
                body.put("code", READ);
                body.putArray("files").addObject().put("path", "in.bin").put("base64", megabyte);
            }
            case FILE_OUT -> {
                body.put("code", WRITE);
                body.putArray("collect").add("out.bin");
            }
        }
        return body;
    }

    private long viaKafka(BenchClient kafka, Kind kind) throws Exception {
        Job job = switch (kind) {
            case TRIVIAL -> Job.of("python", "1");
            case FILE_IN -> Job.of("python", READ).withFiles(List.of(InputFile.of("in.bin", Base64.getDecoder()
                    .decode(megabyte))));
            case FILE_OUT -> Job.of("python", WRITE).collecting(List.of("out.bin"));
        };
        long start = System.nanoTime();
        JsonNode result = kafka.call(job);
        long took = (System.nanoTime() - start) / 1000;
        check(kind, result);
        return took;
    }

    private long viaHttp(DispatcherClient http, Kind kind) throws Exception {
        long start = System.nanoTime();
        JsonNode view = http.submitAndWait(body(kind));
        long took = (System.nanoTime() - start) / 1000;
        check(kind, view.path("result"));
        return took;
    }

    private static void check(Kind kind, JsonNode result) {
        boolean ok = "ok".equals(result.path("status").asText()) && switch (kind) {
            case TRIVIAL -> true;
            case FILE_IN -> Integer.toString(MB).equals(result.path("value").asText());
            case FILE_OUT -> result.at("/files/0/size").asInt() == MB && result.at("/files/0/base64").isTextual();
        };
        if (!ok) {
            throw new IllegalStateException("a " + kind.label + " request failed: " + result);
        }
    }
}
