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
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/**
 * {@code ./farm chaos}: a farm of its own under a steady load (sessions and stateless requests with
 * output, {@link ChaosTraffic}) while workers are killed with SIGKILL, the broker is stopped and
 * started again, and Redis is killed and started again from its append-only file, at random
 * moments; then what the clients saw, per fault ({@link ChaosReport}). Exits 0 when nothing was
 * lost, answered twice or with an error, or forgotten by a session.
 */
@Command(name = "farm chaos", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Faults under load: kills workers, restarts the broker and Redis, and counts what clients lost.")
public final class ChaosRun implements Callable<Integer> {

    /** What a fault does. */
    enum Kind {
        WORKER_KILLED("worker", "a worker killed (SIGKILL), a new one started"),
        BROKER_RESTARTED("broker", "the broker stopped, down 2 s, started again"),
        REDIS_KILLED("redis", "Redis killed (SIGKILL), down 1 s, started again from its append-only file");

        final String option;
        final String description;

        Kind(String option, String description) {
            this.option = option;
            this.description = description;
        }
    }

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

    @Option(names = "--kinds", split = ",", description = "The kinds of fault, comma-separated: worker, broker, redis "
            + "(default: all).", converter = KindConverter.class)
    List<Kind> kinds = List.of(Kind.values());

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
        long seedUsed = seed != null ? seed : new Random().nextLong();
        Random random = new Random(seedUsed);
        Map<String, String> workerSettings = new LinkedHashMap<>();
        workerSettings.put("EXECFARM_JULIA", "false");
        LocalFarm farm = new LocalFarm(root, stateDir != null ? stateDir.toAbsolutePath() : root.resolve(".farm/chaos"),
                System.err);
        try {
            farm.down();
            progress.say("starting a farm of " + workers + " workers for a " + minutes + "-minute run with " + faults
                    + " faults (seed " + seedUsed + ")");
            // What is lost counts here, not how fast: the request path needs no warming first.
            farm.up(workers, workerSettings, Map.of(), LocalFarm.Warm.POOLS);
            Instant startedAt = Instant.now();
            List<Fault> happened = new ArrayList<>();
            long runNanos;
            try (ChaosTraffic traffic = new ChaosTraffic(farm.kafkaAdmin(), farm.client(), "local")) {
                traffic.start(clients);
                long start = System.nanoTime();
                runNanos = (long) (minutes * 60e9);
                List<Kind> kinds = schedule(random);
                long slot = runNanos / Math.max(1, faults);
                for (int i = 0; i < kinds.size(); i++) {
                    long at = start + i * slot + (long) (slot * (0.2 + 0.6 * random.nextDouble()));
                    sleepUntil(at);
                    happened.add(inject(farm, kinds.get(i), random, workerSettings));
                    Fault last = happened.get(happened.size() - 1);
                    progress.say(String.format("fault %d/%d at %.0f s: %s (%s, %.1f s)%s", i + 1, kinds.size(),
                            seconds(last.startNanos() - start), last.kind().description, last.target(),
                            seconds(last.endNanos() - last.startNanos()),
                            last.error() != null ? " FAILED: " + last.error() : ""));
                }
                sleepUntil(start + runNanos);
                progress.say("load stopped; waiting for every request's result");
                traffic.stopSending();
                traffic.drain(ChaosTraffic.ANSWER_WITHIN);
                ChaosReport result = new ChaosReport(start, runNanos, happened, traffic.sent(), traffic.sessionLosses(),
                        traffic.readAgain());
                String markdown = result.render(startedAt, seedUsed, workers, clients, command(seedUsed));
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

    /** A kind by its option name. */
    static final class KindConverter implements CommandLine.ITypeConverter<Kind> {
        @Override
        public Kind convert(String value) {
            for (Kind kind : Kind.values()) {
                if (kind.option.equals(value)) {
                    return kind;
                }
            }
            throw new CommandLine.TypeConversionException("no fault kind " + value + "; the kinds: worker, broker, redis");
        }
    }

    private Fault inject(LocalFarm farm, Kind kind, Random random, Map<String, String> workerSettings) {
        long start = System.nanoTime();
        String target = "";
        try {
            switch (kind) {
                case WORKER_KILLED -> {
                    List<String> live = farm.liveWorkers();
                    String victim = live.get(random.nextInt(live.size()));
                    farm.kill(victim);
                    target = victim + " killed, " + farm.addWorker(workerSettings) + " started";
                }
                case BROKER_RESTARTED -> {
                    target = "broker";
                    farm.restart("kafka", Duration.ofSeconds(2), false);
                }
                case REDIS_KILLED -> {
                    target = "redis";
                    farm.restart("redis", Duration.ofSeconds(1), true);
                }
            }
            return new Fault(kind, target, start, System.nanoTime(), null);
        } catch (Exception e) {
            return new Fault(kind, target, start, System.nanoTime(), e.getMessage());
        }
    }

    private String command(long seedUsed) {
        String kindsOption = kinds.size() == Kind.values().length ? ""
                : " --kinds " + String.join(",", kinds.stream().map(kind -> kind.option).toList());
        return String.format("./farm chaos --minutes %s --faults %d --workers %d --clients %d%s --seed %d",
                minutes % 1 == 0 ? Long.toString((long) minutes) : Double.toString(minutes), faults, workers, clients,
                kindsOption, seedUsed);
    }

    private void write(String markdown) throws java.io.IOException {
        Path file = report != null ? report.toAbsolutePath() : root.resolve("docs/reliability.md");
        if (!Files.exists(file)) {
            Files.createDirectories(file.getParent());
            Files.writeString(file, "# Reliability\n\n");
        }
        Report.replaceSection(file, "chaos", markdown);
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
