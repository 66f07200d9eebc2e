package io.execfarm.bench;

import io.execfarm.farm.LocalFarm;
import io.execfarm.farm.OtlpReceiver;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/**
 * {@code ./farm bench}: starts a farm of its own (its own broker, Redis, dispatcher and workers, in
 * {@code .farm/bench}), measures latency, warm against cold, scaling and the overhead breakdown,
 * writes the {@code farm} section of the benchmarks document and its charts, and stops the farm.
 *
 * <p>The farm grows during the run: one worker for the warm/cold runs and the first throughput
 * figure, a second started under a backlog (the takeover), the latency runs on two, then up to the
 * plan's largest worker count.
 */
@Command(name = "farm bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Benchmark a farm this command starts itself; writes docs/benchmarks.md and its charts.")
public final class FarmBenchmark implements Callable<Integer> {

    @Option(names = "--quick", description = "A smoke run of every part, under a minute or two; writes to "
            + "bench/target/quick unless --report says otherwise.")
    boolean quick;

    @Option(names = "--latency-only", description = "Only the latency levels (full plan, with the bare baseline, the "
            + "CPU by process and the breakdown, after the first 100 HTTP requests) on a farm of two workers, printed, "
            + "not written: for trying a change to the request path in five minutes.")
    boolean latencyOnly;

    @Option(names = "--tracing-only", description = "Only what tracing costs (full plan, two workers: two rounds of "
            + "a farm with tracing off and one exporting every span); replaces the report's tracing section.")
    boolean tracingOnly;

    @Option(names = "--share-groups-only", description = "Only the consumer group against the share group "
            + "(full plan: throughput on four workers over two partitions, and a worker joining a backlog, in each); "
            + "replaces the report's share-groups section.")
    boolean shareGroupsOnly;

    @Option(names = "--security-only", description = "Only what the broker's security costs (full plan, two workers: "
            + "two rounds of a farm whose broker is open and one whose broker authenticates and authorizes); replaces the "
            + "report's security section.")
    boolean securityOnly;

    @Option(names = "--cluster-only", description = "Only what a cluster costs (full plan, two workers: two rounds of "
            + "a farm of one broker and one Redis, one of three brokers and a Redis Cluster whose writes wait for a "
            + "replica, and the same cluster without the wait); replaces the report's cluster section.")
    boolean clusterOnly;

    @Option(names = "--files-only", description = "Only what files cost a request: a 1 MB file in and a 1 MB file "
            + "collected against a trivial request, through Kafka and HTTP (one worker, Python only); writes the files "
            + "section.")
    boolean filesOnly;

    @Option(names = "--julia-sysimage", description = "Measure this Julia system image, built before the run by "
            + "deploy/julia/build-sysimage-incremental, instead of building one from the farm's traffic (CI passes the "
            + "one it built for the conformance run to the benchmark's smoke test).")
    Path juliaSysimage;

    @Option(names = "--report", description = "The Markdown file whose farm section is replaced "
            + "(default: docs/benchmarks.md, or bench/target/quick/benchmarks.md with --quick).")
    Path report;

    @Option(names = "--state-dir", description = "Where the benchmark's farm keeps its state and logs "
            + "(default: .farm/bench).")
    Path stateDir;

    /** As many as the issue that set the goal counted: what a newcomer's first minute of trying looks like. */
    private static final int FIRST_REQUESTS = 100;

    private final Path root;
    private final Progress progress = new Progress(System.err);

    public FarmBenchmark(Path root) {
        this.root = root;
    }

    public static void main(String[] args) {
        System.setProperty("java.awt.headless", "true");
        Path root = Path.of(System.getProperty("execfarm.repo.root", ".")).toAbsolutePath().normalize();
        System.exit(new CommandLine(new FarmBenchmark(root)).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        Plan plan = quick ? Plan.QUICK : Plan.FULL;
        Path file = report != null ? report.toAbsolutePath()
                : root.resolve(quick ? "bench/target/quick/benchmarks.md" : "docs/benchmarks.md");
        Path chartsDir = file.getParent().resolve("bench");
        String command = "./farm bench" + (quick ? " --quick" : "");
        Map<String, String> workerSettings = new LinkedHashMap<>();
        workerSettings.put("EXECFARM_WORKER_RUNTIME_PYTHON_POOL_SIZE", Integer.toString(Plan.POOL));
        workerSettings.put("EXECFARM_WORKER_RUNTIME_PYTHON_POOL_MIN_IDLE", Integer.toString(Plan.POOL));
        workerSettings.put("EXECFARM_WORKER_RUNTIME_JULIA_POOL_SIZE", Integer.toString(plan.juliaPool()));
        workerSettings.put("EXECFARM_WORKER_RUNTIME_JULIA_POOL_MIN_IDLE", Integer.toString(plan.juliaPool()));

        Path farmDir = stateDir != null ? stateDir.toAbsolutePath() : root.resolve(".farm/bench");
        // The workers record what their Julia processes compile: the sysimage part builds from it.
        // In a directory of its own that the sandbox's uids can reach (the state directory may not be).
        Path juliaDir = Files.createTempDirectory("execfarm-bench-julia-");
        Files.setPosixFilePermissions(juliaDir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path traceDir = juliaDir.resolve("traces");
        workerSettings.put("EXECFARM_WORKER_RUNTIME_JULIA_TRACE_COMPILE_DIR", traceDir.toString());
        LocalFarm farm = new LocalFarm(root, farmDir, System.err);
        AtomicBoolean stopped = new AtomicBoolean();
        Runnable stop = () -> {
            if (stopped.compareAndSet(false, true)) {
                try {
                    farm.down();
                } catch (Exception e) {
                    progress.say("could not stop the benchmark's farm: " + e.getMessage());
                }
            }
        };
        Runtime.getRuntime().addShutdownHook(new Thread(stop, "bench-farm-down"));
        long started = System.nanoTime();
        // Outlives every farm that exports to it, so that none is left sending spans nowhere.
        OtlpReceiver receiver = OtlpReceiver.start(spans -> { });
        try {
            farm.down();
            List<Integer> sizes = plan.scalingWorkers();
            progress.say(plan.name() + " plan; starting a farm of " + sizes.get(0) + " worker (" + Plan.POOL
                    + " Python processes each, and " + plan.juliaPool() + " Julia where Julia is had) in " + farmDir);
            if (tracingOnly) {
                TracingCostBenchmark.Results tracing = new TracingCostBenchmark(farm, progress)
                        .run(workerSettings, Plan.FULL, receiver);
                String section = FarmReport.renderTracing(tracing, "./farm bench --tracing-only", Plan.FULL);
                Report.replaceSection(file, "tracing", section);
                System.out.println(section);
                return 0;
            }
            if (shareGroupsOnly) {
                ShareGroupBenchmark.Results shared = new ShareGroupBenchmark(farm, progress).run(workerSettings, Plan.FULL);
                String section = FarmReport.renderShareGroups(shared, "./farm bench --share-groups-only", Plan.FULL);
                Report.replaceSection(file, "share-groups", section);
                System.out.println(section);
                return 0;
            }
            if (securityOnly) {
                FarmComparison<SecurityCostBenchmark.Broker> security =
                        new SecurityCostBenchmark(farm, progress).run(workerSettings, Plan.FULL);
                String section = FarmReport.renderSecurity(security, "./farm bench --security-only", Plan.FULL);
                Report.replaceSection(file, "security", section);
                System.out.println(section);
                return 0;
            }
            if (clusterOnly) {
                FarmComparison<ClusterCostBenchmark.Setup> cluster =
                        new ClusterCostBenchmark(farm, progress).run(workerSettings, Plan.FULL);
                String section = FarmReport.renderCluster(cluster, "./farm bench --cluster-only", Plan.FULL);
                Report.replaceSection(file, "cluster", section);
                System.out.println(section);
                return 0;
            }
            if (filesOnly) {
                FilesBenchmark.Results files = new FilesBenchmark(farm, progress).run(workerSettings, 100, 30);
                String section = files.render("./farm bench --files-only");
                Report.replaceSection(file, "files", section);
                System.out.println(section);
                return 0;
            }
            if (latencyOnly) {
                farm.up(2, workerSettings);
                FirstRequests.measure(farm.client(), FIRST_REQUESTS, progress);
                System.out.println(FarmReport.renderLatency(latency(farm, Plan.FULL), 2, Plan.FULL.warmUpRequests()));
                return 0;
            }
            // Warming the request path until its latency stops falling takes a smoke run a minute of
            // requests that measure nothing: its first requests are cold instead.
            farm.up(sizes.get(0), workerSettings, Map.of(),
                    plan.smoke() ? LocalFarm.Warm.POOLS : LocalFarm.Warm.REQUEST_PATH);
            FirstRequests first = FirstRequests.measure(farm.client(), FIRST_REQUESTS, progress);
            try (BenchClient kafka = new BenchClient(farm.kafkaAdmin())) {
                // First, so that the sysimage builds from its recordings while a smoke run's later parts run.
                progress.say("[1/8] warm versus cold on " + sizes.get(0) + " worker");
                List<WarmColdBenchmark.Row> warmCold = new WarmColdBenchmark(kafka, farm.client(), progress,
                        farm.juliaBinary()).run(plan);
                Optional<SysimageBenchmark> sysimageBenchmark = farm.juliaBinary().map(julia -> new SysimageBenchmark(
                        root, julia, traceDir, juliaDir.resolve("sysimage"), progress));
                Optional<SysimageBenchmark.Build> sysimageBuild = Optional.empty();
                if (sysimageBenchmark.isPresent()) {
                    sysimageBuild = Optional.of(juliaSysimage != null ? SysimageBenchmark.prebuilt(juliaSysimage)
                            : sysimageBenchmark.get().startBuild());
                }
                Optional<SysimageBenchmark.Results> sysimage = Optional.empty();
                if (sysimageBuild.isPresent() && !plan.smoke()) {
                    sysimage = Optional.of(sysimageBenchmark.get().measure(sysimageBuild.get(), plan));
                }
                ScalingBenchmark scaling = new ScalingBenchmark(kafka, farm, progress);
                List<ScalingBenchmark.Throughput> throughputs = new ArrayList<>();
                progress.say("[2/8] scaling: throughput on " + sizes.get(0) + " worker");
                throughputs.add(scaling.throughput(sizes.get(0), plan.jobsPerPartition(), plan.scalingWarmUp()));
                progress.say("[3/8] scaling: a worker joins a backlog");
                ScalingBenchmark.Takeover takeover = scaling.takeover(sizes.get(0), plan.takeoverJobsPerPartition(),
                        workerSettings);
                int workers = sizes.get(0) + 1;
                if (sizes.contains(workers)) {
                    throughputs.add(scaling.throughput(workers, plan.jobsPerPartition(), plan.scalingWarmUp()));
                }
                progress.say("[4/8] latency on " + workers + " workers");
                LatencyBenchmark.Results latency = latency(farm, kafka, plan);
                LocalFarm.WorkerClients kafkaClients = farm.kafkaClients(farm.liveWorkers().get(0));
                int latencyWorkers = workers;
                for (int size : sizes) {
                    if (size > workers) {
                        progress.say("[5/8] scaling: growing the farm to " + size + " workers");
                        scaling.growTo(size, workers, workerSettings);
                        workers = size;
                        throughputs.add(scaling.throughput(size, plan.jobsPerPartition(), plan.scalingWarmUp()));
                    }
                }
                progress.say("[6/8] tracing: exporting every span against tracing off");
                TracingCostBenchmark.Results tracing = new TracingCostBenchmark(farm, progress)
                        .run(workerSettings, plan, receiver);
                progress.say("[7/8] share groups: consumer group against share group past the partition count");
                ShareGroupBenchmark.Results shared = new ShareGroupBenchmark(farm, progress).run(workerSettings, plan);
                if (sysimageBuild.isPresent() && plan.smoke()) {
                    sysimage = Optional.of(sysimageBenchmark.get().measure(sysimageBuild.get(), plan));
                }
                // Four farms of its own: past what a smoke run may take (CI runs one).
                Optional<FarmComparison<SecurityCostBenchmark.Broker>> security = Optional.empty();
                if (!plan.smoke()) {
                    progress.say("[8/8] security: a secured broker against an open one");
                    security = Optional.of(new SecurityCostBenchmark(farm, progress).run(workerSettings, plan));
                }
                List<Breakdown> breakdowns = latency.levels().stream()
                        .filter(l -> l.path() != LatencyBenchmark.Path.BARE)
                        .filter(l -> l.concurrency() == 1 || l.concurrency() == plan.highestConcurrency())
                        .map(Breakdown::of).toList();
                Charts charts = new Charts(chartsDir);
                Map<String, Path> chartFiles = new LinkedHashMap<>();
                chartFiles.put("latency", charts.latency(latency.levels()));
                chartFiles.put("scaling", charts.scaling(throughputs));
                chartFiles.put("takeover", charts.takeover(takeover));
                chartFiles.put("breakdown", charts.breakdown(breakdowns));
                double minutes = (System.nanoTime() - started) / 60e9;
                FarmReport.Results results = new FarmReport.Results(command, plan, minutes, first, latency, latencyWorkers,
                        warmCold, sysimage, throughputs, takeover, breakdowns, tracing, kafkaClients, chartFiles,
                        farm.applicationsJvm());
                String section = FarmReport.render(results, file.getParent());
                Report.replaceSection(file, "farm", section);
                Report.replaceSection(file, "tracing", FarmReport.renderTracing(tracing, command, plan));
                Report.replaceSection(file, "share-groups", FarmReport.renderShareGroups(shared, command, plan));
                if (security.isPresent()) {
                    Report.replaceSection(file, "security", FarmReport.renderSecurity(security.get(), command, plan));
                }
                System.out.println(section);
                progress.say(String.format("wrote %s and %d charts in %s (%.1f minutes)", root.relativize(file),
                        chartFiles.size(), root.relativize(chartsDir), minutes));
            }
        } finally {
            progress.say("stopping the benchmark's farm");
            stop.run();
            receiver.close();
            deleteTree(juliaDir);
        }
        return 0;
    }

    private LatencyBenchmark.Results latency(LocalFarm farm, Plan plan) throws Exception {
        try (BenchClient kafka = new BenchClient(farm.kafkaAdmin())) {
            return latency(farm, kafka, plan);
        }
    }

    /** The latency levels, with the bare baseline running beside the farm on the same broker. */
    private LatencyBenchmark.Results latency(LocalFarm farm, BenchClient kafka, Plan plan) throws Exception {
        try (BareBaseline bare = BareBaseline.start(farm.kafkaAdmin(), kafka.partitions("python"));
                RawClient raw = new RawClient(farm.kafkaAdmin())) {
            Map<String, Long> processes = new LinkedHashMap<>(farm.processes());
            processes.put("bare baseline", bare.pid());
            return new LatencyBenchmark(kafka, raw, farm.client(), progress, processes).run(plan);
        }
    }

    /** Deletes the recordings and the image (150 MB) once measured. */
    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        }
    }
}
