package io.execfarm.farm;

import io.execfarm.accounts.KafkaLogin;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.stream.Collectors;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

@Command(name = "status", description = "Workers and their pools per runtime, consumer lag, executions in flight.")
final class StatusCommand implements Callable<Integer> {

    @ParentCommand
    Farm farm;

    /**
     * How long an application may take to accept a connection and answer for its metrics. A worker
     * replacing processes on a busy machine (CI's, right after the hostile suite) once gave none
     * within the 2 s and 5 s these were.
     */
    static final Duration METRICS_TIMEOUT = Duration.ofSeconds(15);

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(METRICS_TIMEOUT).build();

    @Override
    public Integer call() throws Exception {
        if (farm.state.env().isEmpty()) {
            farm.say("the farm is not up (./farm up)");
            return 1;
        }
        Map<String, String> env = farm.state.env().orElseThrow();
        boolean healthy = true;
        farm.out.println("farm in " + farm.state.dir());
        farm.out.println("  kafka       " + env.get("KAFKA_BOOTSTRAP"));
        // The URL carries Redis's password; `./farm env` gives it to whoever asks for it.
        farm.out.println("  redis       " + env.get("REDIS_URL").replaceAll("//:[^@]*@", "//")
                + ("cluster".equals(env.get("REDIS_CLIENT_TYPE")) ? " (a Redis Cluster)" : ""));
        farm.out.println("  julia       " + farm.state.julia().map(j -> j.binary() + " (" + j.origin() + ")")
                .orElse("none: the workers serve Python only"));
        for (String app : farm.state.apps()) {
            var process = farm.state.process(app);
            if (process.isEmpty()) {
                healthy = false;
                farm.out.printf("  %-11s NOT running (log: %s)%n", app, farm.state.log(app));
                continue;
            }
            String metrics = metrics(app);
            String detail = metrics.isEmpty() ? "(its metrics did not answer within " + METRICS_TIMEOUT.toSeconds() + " s)"
                    : app.equals("dispatcher") ? inFlight(metrics) : pools(metrics) + "; " + kafkaClients(metrics);
            farm.out.printf("  %-11s running, pid %d, %s%s%n", app, process.get().pid(), farm.state.url(app),
                    detail.isEmpty() ? "" : "  " + detail);
        }
        try (WorkerGroups groups = new WorkerGroups(KafkaLogin.admin(env))) {
            for (String runtime : List.of("python", "julia")) {
                try {
                    WorkerGroups.Group group = groups.describe(runtime);
                    if (group.members() == 0 && group.lag() == 0) {
                        continue;
                    }
                    farm.out.printf("  %-11s group %s, %d consumers, %d/%d partitions assigned, lag %d%n", runtime,
                            group.state(), group.members(), group.assignedPartitions(), group.partitions(), group.lag());
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof GroupIdNotFoundException)) {
                        healthy = false;
                        farm.out.printf("  %-11s consumer group unavailable: %s%n", runtime, e.getCause().getMessage());
                    }
                }
                try {
                    WorkerGroups.SharedGroup shared = groups.describeShared(runtime);
                    if (shared.members() > 0 || shared.lag() > 0) {
                        farm.out.printf("  %-11s share group %s, %d consumers, lag %d%n", runtime, shared.state(),
                                shared.members(), shared.lag());
                    }
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof GroupIdNotFoundException)) {
                        healthy = false;
                        farm.out.printf("  %-11s share group unavailable: %s%n", runtime, e.getCause().getMessage());
                    }
                }
            }
        }
        return healthy ? 0 : 1;
    }

    /** "python: 2 idle, 1 busy (1 held by sessions), 0 starting" for each runtime the worker serves. */
    static String pools(String metrics) {
        Map<String, Map<String, Long>> byRuntime = new TreeMap<>();
        for (PrometheusText.Sample sample : PrometheusText.samples(metrics, "execfarm_pool_processes")) {
            byRuntime.computeIfAbsent(sample.labels().get("runtime"), r -> new TreeMap<>())
                    .put(sample.labels().get("state"), (long) sample.value());
        }
        Map<String, Long> pinned = PrometheusText.samples(metrics, "execfarm_session_pinned_processes").stream()
                .collect(Collectors.toMap(s -> s.labels().get("runtime"), s -> (long) s.value(), Long::sum));
        return byRuntime.entrySet().stream().map(entry -> {
            Map<String, Long> states = entry.getValue();
            return entry.getKey() + ": " + states.getOrDefault("idle", 0L) + " idle, " + states.getOrDefault("busy", 0L)
                    + " busy (" + pinned.getOrDefault(entry.getKey(), 0L) + " held by sessions), "
                    + states.getOrDefault("starting", 0L) + " starting";
        }).collect(Collectors.joining("; "));
    }

    /** "kafka clients: 7 (5 consumers, 2 producers, 0 admin)". */
    static String kafkaClients(String metrics) {
        Map<String, Long> byKind = kafkaClientsByKind(metrics);
        long total = byKind.values().stream().mapToLong(Long::longValue).sum();
        return "kafka clients: " + total + " (" + count(byKind, "consumer") + ", " + count(byKind, "producer") + ", "
                + byKind.getOrDefault("admin", 0L) + " admin)";
    }

    private static String count(Map<String, Long> byKind, String kind) {
        long n = byKind.getOrDefault(kind, 0L);
        return n + " " + kind + (n == 1 ? "" : "s");
    }

    /** A worker's open Kafka clients by kind (consumer, producer, admin). */
    static Map<String, Long> kafkaClientsByKind(String metrics) {
        return PrometheusText.samples(metrics, "execfarm_kafka_clients").stream()
                .collect(Collectors.toMap(s -> s.labels().get("kind"), s -> (long) s.value(), Long::sum, TreeMap::new));
    }

    /** "in flight: 3" summed over the tenants the dispatcher has seen. */
    static String inFlight(String metrics) {
        long total = PrometheusText.samples(metrics, "execfarm_tenant_in_flight").stream()
                .mapToLong(s -> (long) s.value()).sum();
        return "in flight: " + total;
    }

    static String metrics(HttpClient http, String url) {
        try {
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(url + "/q/metrics"))
                    .timeout(METRICS_TIMEOUT).build(), HttpResponse.BodyHandlers.ofString());
            return response.statusCode() == 200 ? response.body() : "";
        } catch (IOException e) {
            return "";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "";
        }
    }

    private String metrics(String app) {
        return metrics(http, farm.state.url(app));
    }
}
