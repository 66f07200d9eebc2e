package io.execfarm.bench;

import io.execfarm.farm.LocalFarm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine;

/**
 * {@code ./farm chaos}: a farm of its own under a steady load (sessions and stateless requests with
 * output, {@link ChaosTraffic}) while workers are killed with SIGKILL, the broker is stopped and
 * started again, and Redis is killed and started again from its append-only file, at random
 * moments; then what the clients saw, per fault ({@link ChaosReport}). With {@code --cluster}, on
 * three brokers and a Redis Cluster: a broker, the broker leading most request partitions and a
 * Redis master are killed (SIGKILL), one at a time and together. Exits 0 when nothing was lost,
 * answered twice or with an error, or forgotten by a session.
 */
@Command(name = "farm chaos", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Faults under load: kills workers, restarts the broker and Redis, and counts what clients lost.")
public final class ChaosRun implements Callable<Integer> {

    /** What a fault does, on a farm of single nodes or on a cluster. */
    enum Kind {
        WORKER_KILLED("worker", null, "a worker killed (SIGKILL), a new one started"),
        BROKER_RESTARTED("broker", LocalFarm.Nodes.SINGLE, "the broker stopped, down 2 s, started again"),
        REDIS_KILLED("redis", LocalFarm.Nodes.SINGLE,
                "Redis killed (SIGKILL), down 1 s, started again from its append-only file"),
        BROKER_KILLED("broker", LocalFarm.Nodes.CLUSTER, "a broker killed (SIGKILL), down 2 s, started again"),
        LEADERS_KILLED("leader", LocalFarm.Nodes.CLUSTER,
                "the broker leading most request partitions killed (SIGKILL), down 2 s, started again"),
        REDIS_MASTER_KILLED("redis", LocalFarm.Nodes.CLUSTER, "a Redis master killed (SIGKILL), down "
                + REDIS_MASTER_DOWN.toSeconds() + " s (its replica takes over), started again (as a replica)"),
        OVERLAPPING("overlap", LocalFarm.Nodes.CLUSTER,
                "a broker, a Redis master and a worker killed (SIGKILL) together, the nodes started again");

        final String option;
        /** The farm it applies to; null for both. */
        final LocalFarm.Nodes nodes;
        final String description;

        Kind(String option, LocalFarm.Nodes nodes, String description) {
            this.option = option;
            this.nodes = nodes;
            this.description = description;
        }

        static List<Kind> on(LocalFarm.Nodes nodes) {
            return List.of(values()).stream().filter(kind -> kind.nodes == null || kind.nodes == nodes).toList();
        }

        static Optional<Kind> named(String option, LocalFarm.Nodes nodes) {
            return on(nodes).stream().filter(kind -> kind.option.equals(option)).findFirst();
        }
    }

    /** Longer than a Redis Cluster's failover (cluster-node-timeout 3 s, then the election): the replica takes over. */
    private static final Duration REDIS_MASTER_DOWN = Duration.ofSeconds(6);
    private static final Duration BROKER_DOWN = Duration.ofSeconds(2);

    /** One fault as it happened: seconds into the run, what it hit, how long it took. */
    record Fault(Kind kind, String target, long startNanos, long endNanos, String error) {
    }

    @Option(names = "--minutes", description = "How long the load runs (default ${DEFAULT-VALUE}).", defaultValue = "5")
    double minutes;

    @Option(names = "--faults", description = "Faults injected over the run, each kind in turn (default ${DEFAULT-VALUE}).",
            defaultValue = "10")
    int faults;

    @Option(names = "--workers", description = "Workers kept running (default ${DEFAULT-VALUE}).", defaultValue = "3")
    int workers;

    @Option(names = "--clients", description = "Closed-loop clients; every third runs a session (default ${DEFAULT-VALUE}).",
            defaultValue = "6")
    int clients;

    @Option(names = "--cluster", description = "Three brokers and a Redis Cluster of six nodes; the faults kill "
            + "brokers, the partition leaders' broker and Redis masters, one at a time and together.")
    boolean cluster;

    @Option(names = "--kinds", split = ",", description = "The kinds of fault, comma-separated: worker, broker, redis; "
            + "with --cluster also leader, overlap (default: all).")
    List<String> kindNames;

    private List<Kind> kinds;

    @Spec
    CommandSpec spec;

    @Option(names = "--seed", description = "Seeds the fault schedule; random when absent.")
    Long seed;

    @Option(names = "--report", description = "The Markdown file whose chaos section is replaced (default docs/reliability.md).")
    Path report;

    @Option(names = "--state-dir", description = "Where the run's farm keeps its state and logs (default .farm/chaos).")
    Path stateDir;

    private final Path root;
    private final Progress progress = new Progress(System.err);

    public ChaosRun(Path root) {
        this.root = root;
    }

    public static void main(String[] args) {
        Path root = Path.of(System.getProperty("execfarm.repo.root", ".")).toAbsolutePath().normalize();
        System.exit(new CommandLine(new ChaosRun(root)).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        LocalFarm.Nodes nodes = cluster ? LocalFarm.Nodes.CLUSTER : LocalFarm.Nodes.SINGLE;
        kinds = kindNames == null ? Kind.on(nodes) : kindNames.stream().map(name -> Kind.named(name, nodes)
                .orElseThrow(() -> new CommandLine.ParameterException(spec.commandLine(), "no fault kind " + name
                        + " on this farm; the kinds: " + String.join(", ", Kind.on(nodes).stream()
                                .map(kind -> kind.option).toList())))).toList();
        long seedUsed = seed != null ? seed : new Random().nextLong();
        Random random = new Random(seedUsed);
        Map<String, String> workerSettings = new LinkedHashMap<>();
        workerSettings.put("EXECFARM_JULIA", "false");
        LocalFarm farm = new LocalFarm(root, stateDir != null ? stateDir.toAbsolutePath() : root.resolve(".farm/chaos"),
                System.err);
        try {
            farm.down();
            progress.say("starting a farm of " + workers + " workers" + (cluster ? " on a cluster" : "") + " for a "
                    + minutes + "-minute run with " + faults + " faults (seed " + seedUsed + ")");
            // What is lost counts here, not how fast: the request path needs no warming first.
            farm.up(workers, workerSettings, Map.of(), LocalFarm.Warm.POOLS, nodes);
            Instant startedAt = Instant.now();
            List<Fault> happened = new ArrayList<>();
            long runNanos;
            try (ChaosTraffic traffic = new ChaosTraffic(farm.kafkaAdmin(), farm.client(), "local")) {
                traffic.start(clients);
                long start = System.nanoTime();
                runNanos = (long) (minutes * 60e9);
                List<Kind> scheduled = schedule(random);
                long slot = runNanos / Math.max(1, faults);
                for (int i = 0; i < scheduled.size(); i++) {
                    long at = start + i * slot + (long) (slot * (0.2 + 0.6 * random.nextDouble()));
                    sleepUntil(at);
                    happened.add(inject(farm, scheduled.get(i), random, workerSettings));
                    Fault last = happened.get(happened.size() - 1);
                    progress.say(String.format("fault %d/%d at %.0f s: %s (%s%.1f s)%s", i + 1, scheduled.size(),
                            seconds(last.startNanos() - start), last.kind().description,
                            last.target().isEmpty() ? "" : last.target() + ", ", seconds(last.endNanos() - last.startNanos()),
                            last.error() != null ? " FAILED: " + last.error() : ""));
                }
                sleepUntil(start + runNanos);
                progress.say("load stopped; waiting for every request's result");
                traffic.stopSending();
                traffic.drain(ChaosTraffic.ANSWER_WITHIN);
                ChaosReport result = new ChaosReport(start, runNanos, happened, traffic.sent(), traffic.sessionLosses(),
                        traffic.garbled());
                String markdown = result.render(startedAt, seedUsed, workers, clients, cluster, command(seedUsed));
                System.out.println(markdown);
                write(markdown);
                progress.say(result.passed() ? "passed: nothing lost, nothing answered twice or with an error, no session lost"
                        : "FAILED: " + result.verdict());
                return result.passed() ? 0 : 1;
            }
        } finally {
            farm.down();
        }
    }

    /** Each kind in turn, in a random order per round, so a run of as many faults as kinds has every kind. */
    private List<Kind> schedule(Random random) {
        List<Kind> scheduled = new ArrayList<>();
        while (scheduled.size() < faults) {
            List<Kind> round = new ArrayList<>(kinds);
            Collections.shuffle(round, random);
            scheduled.addAll(round.subList(0, Math.min(round.size(), faults - scheduled.size())));
        }
        return scheduled;
    }

    private Fault inject(LocalFarm farm, Kind kind, Random random, Map<String, String> workerSettings) {
        long start = System.nanoTime();
        String target = "";
        try {
            switch (kind) {
                case WORKER_KILLED -> target = killWorker(farm, random, workerSettings);
                case BROKER_RESTARTED -> farm.restart("kafka", BROKER_DOWN, false);
                case REDIS_KILLED -> farm.restart("redis", Duration.ofSeconds(1), true);
                case BROKER_KILLED -> {
                    target = ClusterNodes.anyBroker(random);
                    farm.restart(target, BROKER_DOWN, true);
                }
                case LEADERS_KILLED -> {
                    target = ClusterNodes.leadingBroker(farm.kafkaAdmin());
                    farm.restart(target, BROKER_DOWN, true);
                }
                case REDIS_MASTER_KILLED -> {
                    target = ClusterNodes.anyRedisMaster(farm.env(), random);
                    farm.restart(target, REDIS_MASTER_DOWN, true);
                }
                case OVERLAPPING -> {
                    String broker = ClusterNodes.anyBroker(random);
                    String master = ClusterNodes.anyRedisMaster(farm.env(), random);
                    CompletableFuture<Void> brokerDown =
                            CompletableFuture.runAsync(() -> restart(farm, broker, BROKER_DOWN));
                    CompletableFuture<Void> masterDown = CompletableFuture.runAsync(
                            () -> restart(farm, master, REDIS_MASTER_DOWN));
                    String worker = killWorker(farm, random, workerSettings);
                    brokerDown.join();
                    masterDown.join();
                    target = broker + ", " + master + ", " + worker;
                }
            }
            return new Fault(kind, target, start, System.nanoTime(), null);
        } catch (Exception e) {
            return new Fault(kind, target, start, System.nanoTime(), e.getMessage());
        }
    }

    private static String killWorker(LocalFarm farm, Random random, Map<String, String> workerSettings) throws Exception {
        List<String> live = farm.liveWorkers();
        String victim = live.get(random.nextInt(live.size()));
        farm.kill(victim);
        return victim + " killed, " + farm.addWorker(workerSettings) + " started";
    }

    private static void restart(LocalFarm farm, String node, Duration downFor) {
        try {
            farm.restart(node, downFor, true);
        } catch (Exception e) {
            throw new IllegalStateException("restarting " + node + ": " + e.getMessage(), e);
        }
    }

    private String command(long seedUsed) {
        String kindsOption = kindNames == null ? "" : " --kinds " + String.join(",", kindNames);
        return String.format("./farm chaos%s --minutes %s --faults %d --workers %d --clients %d%s --seed %d",
                cluster ? " --cluster" : "", minutes % 1 == 0 ? Long.toString((long) minutes) : Double.toString(minutes),
                faults, workers, clients, kindsOption, seedUsed);
    }

    private void write(String markdown) throws java.io.IOException {
        Path file = report != null ? report.toAbsolutePath() : root.resolve("docs/reliability.md");
        if (!Files.exists(file)) {
            Files.createDirectories(file.getParent());
            Files.writeString(file, "# Reliability\n\n");
        }
        Report.replaceSection(file, cluster ? "chaos-cluster" : "chaos", markdown);
        progress.say("wrote " + file);
    }

    private static void sleepUntil(long nanos) throws InterruptedException {
        long wait = nanos - System.nanoTime();
        if (wait > 0) {
            TimeUnit.NANOSECONDS.sleep(wait);
        }
    }

    static double seconds(long nanos) {
        return nanos / 1e9;
    }
}
