package io.execfarm.farm;

import java.net.http.HttpClient;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(name = "up", description = "Start the broker, Redis, a dispatcher and N workers; wait until all are healthy "
        + "and the workers share the request partitions.")
final class UpCommand implements Callable<Integer> {

    private static final Duration SETTLE_TIMEOUT = Duration.ofSeconds(120);
    private static final int WARM_UP_REQUESTS = 30;

    @ParentCommand
    Farm farm;

    @Option(names = "--workers", defaultValue = "2", description = "Workers to start (default ${DEFAULT-VALUE}).")
    int workers;

    @Override
    public Integer call() throws Exception {
        return start(farm, workers);
    }

    static int start(Farm farm, int workers) throws Exception {
        if (workers < 1) {
            farm.say("--workers must be at least 1");
            return 2;
        }
        if (farm.state.isUp()) {
            farm.say("already up at " + farm.state.url("dispatcher") + "; ./farm status shows it, ./farm down stops it");
            return 0;
        }
        try {
            boolean julia = Executables.onPath("julia");
            if (!julia) {
                farm.say("julia is NOT on PATH: the workers serve Python only. " + DemoCommand.JULIA_INSTALL);
            }
            Map<String, String> infra = new Infra(farm.repoRoot, farm.state.infraDir()).start();
            String apiKey = HexFormat.of().formatHex(new SecureRandom().generateSeed(16));
            LocalApps apps = new LocalApps(farm.repoRoot, farm.state, farm.err);
            Map<String, String> dispatcherEnv = new LinkedHashMap<>(infra);
            dispatcherEnv.put("EXECFARM_API_KEYS", apiKey + ":local");
            apps.start("dispatcher", LocalApps.App.DISPATCHER, dispatcherEnv);
            for (int i = 1; i <= workers; i++) {
                Map<String, String> env = new LinkedHashMap<>(infra);
                env.put("EXECFARM_JULIA", Boolean.toString(julia));
                env.put("EXECFARM_WORKER_ID", "worker-" + i);
                apps.start("worker-" + i, LocalApps.App.WORKER, env);
            }
            farm.say("starting a dispatcher and " + workers + " worker" + (workers == 1 ? "" : "s") + " (logs in "
                    + farm.state.dir() + ")");
            for (String app : farm.state.apps()) {
                apps.awaitReady(app);
            }
            List<String> runtimes = new ArrayList<>(List.of("python"));
            if (julia) {
                runtimes.add("julia");
            }
            awaitWarm(farm);
            awaitSettled(farm, infra.get("KAFKA_BOOTSTRAP"), runtimes);
            Map<String, String> env = new LinkedHashMap<>(infra);
            env.put("DISPATCHER_URL", farm.state.url("dispatcher"));
            env.put("EXECFARM_API_KEY", apiKey);
            warmRequestPath(farm, new DispatcherClient(farm.state.url("dispatcher"), apiKey));
            farm.state.writeEnv(env);
            farm.say("up: dispatcher at " + farm.state.url("dispatcher") + ", " + workers + " worker"
                    + (workers == 1 ? "" : "s") + " serving " + String.join(" and ", runtimes));
            farm.say("addresses and the API key: ./farm env; run code: ./farm run FILE; stop: ./farm down");
            return 0;
        } catch (Exception e) {
            farm.say("could not start the farm: " + e.getMessage());
            farm.say("stopping what was started");
            DownCommand.stop(farm);
            return 1;
        }
    }

    /**
     * Sends trivial requests through the whole path until it is warm: the first request on each
     * JVM, connection and partition costs up to a second or two (class loading, JIT, connections,
     * the first fetch of each partition), which a user's first request should not pay. Reported,
     * not hidden.
     */
    private static void warmRequestPath(Farm farm, DispatcherClient client) throws Exception {
        farm.err.print("farm: warming the request path ");
        long first = 0;
        long last = 0;
        for (int i = 0; i < WARM_UP_REQUESTS; i++) {
            long start = System.nanoTime();
            client.submitAndWait("python", "None");
            last = System.nanoTime() - start;
            first = i == 0 ? last : first;
            farm.err.print('.');
            farm.err.flush();
        }
        farm.err.printf(" %d requests, the first took %.0f ms, the last %.0f ms%n", WARM_UP_REQUESTS, first / 1e6,
                last / 1e6);
    }

    /**
     * Waits until no worker is still starting pool processes: on a small machine those starts
     * compete with the first requests for the CPU.
     */
    private static void awaitWarm(Farm farm) throws InterruptedException {
        farm.err.print("farm: waiting for the pools to warm up ");
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        long deadline = System.nanoTime() + SETTLE_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            boolean starting = false;
            for (String worker : farm.state.workers()) {
                String metrics = StatusCommand.metrics(http, farm.state.url(worker));
                starting |= metrics.isEmpty() || PrometheusText.samples(metrics, "execfarm_pool_processes").stream()
                        .anyMatch(s -> "starting".equals(s.labels().get("state")) && s.value() > 0);
            }
            if (!starting) {
                farm.err.println(" warm");
                return;
            }
            farm.err.print('.');
            farm.err.flush();
            Thread.sleep(500);
        }
        farm.err.println(" still starting after " + SETTLE_TIMEOUT.toSeconds() + " s; going on");
    }

    /**
     * Waits until each runtime's worker group owns every partition with no rebalance under way, so
     * the first request is not held up by workers still joining.
     */
    private static void awaitSettled(Farm farm, String bootstrap, List<String> runtimes) throws Exception {
        farm.err.print("farm: waiting for the workers to share the request partitions ");
        long deadline = System.nanoTime() + SETTLE_TIMEOUT.toNanos();
        try (WorkerGroups groups = new WorkerGroups(bootstrap)) {
            for (String runtime : runtimes) {
                while (true) {
                    String last;
                    try {
                        WorkerGroups.Group group = groups.describe(runtime);
                        if (group.settled()) {
                            break;
                        }
                        last = group.toString();
                    } catch (Exception e) {
                        last = e.getMessage();
                    }
                    if (System.nanoTime() > deadline) {
                        farm.err.println();
                        throw new IllegalStateException("the " + runtime + " workers did not settle within "
                                + SETTLE_TIMEOUT.toSeconds() + " s (" + last + ")");
                    }
                    farm.err.print('.');
                    farm.err.flush();
                    Thread.sleep(500);
                }
            }
        }
        farm.err.println(" settled");
    }
}
