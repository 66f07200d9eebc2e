package io.execfarm.farm;

import io.execfarm.accounts.KafkaAccounts;
import io.execfarm.accounts.KafkaLogin;
import io.execfarm.accounts.Passwords;
import java.io.PrintStream;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * A local farm driven from code: what {@code ./farm up} and {@code down} do, and growing a running
 * farm by one worker at a time (the benchmarks measure how a new worker takes its share). Progress
 * goes to the given stream, as the commands print it.
 */
public final class LocalFarm {

    private static final Duration SETTLE_TIMEOUT = Duration.ofSeconds(120);
    private static final int MAX_WARM_UP_REQUESTS = 3000;
    /**
     * The training run's share of the request path: every class it loads and a profile of each of its
     * methods are what the AOT cache holds, and these few requests have them; more only deepened the
     * profiles, at a minute of two cores (CI's FarmIT), where the farm that follows warms itself anyway.
     */
    private static final int TRAINING_REQUESTS = 360;
    /** A JVM writes its AOT cache as it exits, a few seconds for these applications on this machine. */
    private static final Duration AOT_WRITE_GRACE = Duration.ofSeconds(120);

    private final Path repoRoot;
    private final FarmState state;
    private final PrintStream progress;
    private final LocalApps apps;
    private final AppJvm jvm;
    /** Reads the applications' /q/metrics: the pools' warm-up, the JITs' activity, the clients. */
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    /** Found at the first start, where the farm needs it. */
    private Optional<JuliaLocator.Julia> julia;
    /** Added to the environment of every application this farm starts (tracing, for one). */
    private Map<String, String> appSettings = Map.of();

    public LocalFarm(Path repoRoot, Path stateDir, PrintStream progress) {
        this(repoRoot, new FarmState(stateDir), progress);
    }

    LocalFarm(Path repoRoot, FarmState state, PrintStream progress) {
        this.repoRoot = repoRoot;
        this.state = state;
        this.progress = progress;
        this.apps = new LocalApps(repoRoot, state, progress);
        this.jvm = AppJvm.find(repoRoot, System.getenv());
        this.julia = state.julia();
    }

    /**
     * Starts the broker, Redis, a dispatcher and {@code workers} workers, each with
     * {@code workerSettings} added to its environment (Quarkus reads
     * {@code EXECFARM_WORKER_RUNTIME_PYTHON_POOL_SIZE} as {@code execfarm.worker.runtime.python.pool.size};
     * {@code EXECFARM_JULIA=false} makes a farm that serves Python only); returns when all are
     * ready, the pools are warm, every runtime group is settled and the request path has been warmed.
     */
    public void up(int workers, Map<String, String> workerSettings) throws Exception {
        up(workers, workerSettings, Map.of(), Warm.REQUEST_PATH);
    }

    /** What {@link #up} warms before it returns. */
    public enum Warm {
        /** The pools and the request path: the farm's first requests run at steady-state speed. */
        REQUEST_PATH,
        /** The pools only, for a caller that warms up or measures the request path itself. */
        POOLS
    }

    /**
     * {@link #up(int, Map)}, with {@code appSettings} in the environment of the dispatcher and of
     * every worker, including those added later (an OTLP endpoint to export spans to, for one), and
     * {@code warm} saying what is warmed before it returns. {@code KAFKA_SECURITY_PROTOCOL=PLAINTEXT}
     * among {@code appSettings} starts the broker without SASL or ACLs, to measure what they cost.
     */
    public void up(int workers, Map<String, String> workerSettings, Map<String, String> appSettings, Warm warm)
            throws Exception {
        up(workers, workerSettings, appSettings, warm, Nodes.SINGLE);
    }

    /** How many nodes the farm's Kafka and Redis have. */
    public enum Nodes {
        /** One broker and one Redis: the default, quick to start. */
        SINGLE,
        /**
         * Three brokers (topics replicated three times, two copies acknowledging each write) and a
         * Redis Cluster of three masters with a replica each; the workers' writes that must outlive
         * a Redis failover wait for a replica.
         */
        CLUSTER
    }

    /** {@link #up(int, Map, Map, Warm)} on {@code nodes}. */
    public void up(int workers, Map<String, String> workerSettings, Map<String, String> appSettings, Warm warm,
            Nodes nodes) throws Exception {
        this.appSettings = Map.copyOf(appSettings);
        if ("false".equals(workerSettings.get("EXECFARM_JULIA"))) {
            julia = Optional.empty();
            say("julia: switched off for this farm (EXECFARM_JULIA=false)");
        } else {
            julia = JuliaLocator.locate(repoRoot, progress);
            julia.ifPresentOrElse(j -> say("julia: " + j.binary() + " (" + j.origin() + ")"),
                    () -> say("no Julia could be had: the workers serve Python only. " + DemoCommand.JULIA_INSTALL));
        }
        state.recordJulia(julia);
        Map<String, String> infra = new Infra(repoRoot, state.infraDir()).start(KafkaLogin.isOpen(appSettings),
                nodes == Nodes.CLUSTER);
        KafkaAccounts.provision(KafkaLogin.admin(infra), KafkaAccounts.servicePasswords(infra));
        String apiKey = Passwords.generate();
        Map<String, String> dispatcherEnv = appEnv(infra, KafkaAccounts.Service.DISPATCHER);
        dispatcherEnv.putAll(appSettings);
        // Keys of the caller's own (EXECFARM_API_KEYS=key:tenant,...) sit beside the generated one,
        // so that two tenants can be tried on one local farm.
        String extraKeys = System.getenv().getOrDefault("EXECFARM_API_KEYS", "").strip();
        dispatcherEnv.put("EXECFARM_API_KEYS", apiKey + ":local" + (extraKeys.isEmpty() ? "" : "," + extraKeys));
        if (warm == Warm.REQUEST_PATH && jvm.needsTraining()) {
            trainAotCaches(dispatcherEnv, workerEnv(infra, 1, workerSettings), apiKey, KafkaLogin.admin(infra));
        }
        apps.start("dispatcher", LocalApps.App.DISPATCHER, dispatcherEnv, jvm.launch(LocalApps.App.DISPATCHER));
        for (int i = 1; i <= workers; i++) {
            apps.start("worker-" + i, LocalApps.App.WORKER, workerEnv(infra, i, workerSettings),
                    jvm.launch(LocalApps.App.WORKER));
        }
        say("starting a dispatcher and " + workers + " worker" + (workers == 1 ? "" : "s") + " (logs in "
                + state.dir() + ")");
        for (String app : state.apps()) {
            apps.awaitReady(app);
        }
        awaitWarm();
        awaitSettled(KafkaLogin.admin(infra));
        Map<String, String> env = new LinkedHashMap<>(infra);
        env.put("DISPATCHER_URL", state.url("dispatcher"));
        env.put("EXECFARM_API_KEY", apiKey);
        if (warm == Warm.REQUEST_PATH) {
            warmRequestPath(new DispatcherClient(state.url("dispatcher"), apiKey), MAX_WARM_UP_REQUESTS, true);
        }
        state.writeEnv(env);
        say("up: dispatcher at " + state.url("dispatcher") + ", " + workers + " worker" + (workers == 1 ? "" : "s")
                + " serving " + String.join(" and ", runtimes()));
    }

    /**
     * Starts one more worker on a running farm and returns its name at once, without waiting for
     * it: {@link #awaitReady} and {@link #awaitSettled} wait.
     */
    public String addWorker(Map<String, String> workerSettings) throws Exception {
        int number = state.workers().size() + 1;
        String name = "worker-" + number;
        apps.start(name, LocalApps.App.WORKER, workerEnv(env(), number, workerSettings),
                jvm.launch(LocalApps.App.WORKER));
        return name;
    }

    /** How the applications start, for a report: on which JVM, with an AOT cache or not (see {@code AppJvm}). */
    public String applicationsJvm() {
        return jvm.describe();
    }

    /** Where an application of the farm ({@code dispatcher}, {@code worker-1}...) writes its log. */
    public Path log(String app) {
        return state.log(app);
    }

    /** Kills a worker as a crash would (SIGKILL): no shutdown, nothing handed over. */
    public void kill(String worker) throws InterruptedException {
        ProcessHandle process = state.process(worker)
                .orElseThrow(() -> new IllegalStateException(worker + " is not running"));
        process.destroyForcibly();
        process.onExit().join();
    }

    /**
     * Stops a worker as a deploy would (SIGTERM, SIGKILL after a grace period): it leaves its groups
     * and hands its work over, and a worker added later may take its name.
     */
    public void stop(String worker) {
        apps.stop(worker).orElseThrow(() -> new IllegalStateException(worker + " is not running"));
    }

    /** The workers running now, by name. */
    public List<String> liveWorkers() {
        return state.workers().stream().filter(worker -> state.process(worker).isPresent()).toList();
    }

    /**
     * Stops the broker ({@code kafka}) or Redis ({@code redis}) for real, SIGKILL when {@code kill}
     * else SIGTERM, leaves it down for {@code downFor} and starts it again on its port with its data;
     * returns once it serves.
     */
    public void restart(String component, Duration downFor, boolean kill) throws Exception {
        new Infra(repoRoot, state.infraDir()).restart(component, downFor, kill);
    }

    public void awaitReady(String app) throws Exception {
        apps.awaitReady(app);
    }

    /**
     * Waits until no worker is still starting pool processes: on a small machine those starts
     * compete with the first requests for the CPU.
     */
    public void awaitWarm() throws InterruptedException {
        progress.print("farm: waiting for the pools to warm up ");
        long deadline = System.nanoTime() + SETTLE_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            boolean starting = false;
            for (String worker : liveWorkers()) {
                String metrics = StatusCommand.metrics(http, state.url(worker));
                starting |= metrics.isEmpty() || PrometheusText.samples(metrics, "execfarm_pool_processes").stream()
                        .anyMatch(s -> "starting".equals(s.labels().get("state")) && s.value() > 0);
            }
            if (!starting) {
                progress.println(" warm");
                return;
            }
            dot();
            Thread.sleep(500);
        }
        progress.println(" still starting after " + SETTLE_TIMEOUT.toSeconds() + " s; going on");
    }

    /**
     * Waits until each runtime's worker group owns every partition with no rebalance under way, so
     * the next request is not held up by workers still joining, and the dispatcher accepts work for
     * every runtime.
     */
    public void awaitSettled() throws Exception {
        awaitSettled(kafkaAdmin());
    }

    /**
     * What an application of the farm ({@code dispatcher}, {@code worker-1}...) serves at
     * /q/metrics, in Prometheus's text format; empty when it does not answer.
     */
    public String metrics(String app) {
        return StatusCommand.metrics(http, state.url(app));
    }

    /** A worker's open Kafka clients ({@code execfarm_kafka_clients}) and the runtimes its pools serve. */
    public record WorkerClients(long total, String detail, Set<String> runtimes) {
    }

    public WorkerClients kafkaClients(String worker) {
        String metrics = metrics(worker);
        long total = StatusCommand.kafkaClientsByKind(metrics).values().stream().mapToLong(Long::longValue).sum();
        Set<String> runtimes = PrometheusText.samples(metrics, "execfarm_pool_processes").stream()
                .map(s -> s.labels().get("runtime")).collect(Collectors.toCollection(TreeSet::new));
        return new WorkerClients(total, StatusCommand.kafkaClients(metrics), runtimes);
    }

    /**
     * KAFKA_BOOTSTRAP, REDIS_URL, DISPATCHER_URL and EXECFARM_API_KEY of the running farm, and the
     * Kafka passwords (its admin's and its services').
     */
    public Map<String, String> env() {
        return state.env().filter(e -> state.isUp())
                .orElseThrow(() -> new IllegalStateException("the farm in " + state.dir() + " is not up"));
    }

    /**
     * The farm's processes by name, for measuring what each costs: {@code broker} and {@code redis}
     * (on a cluster {@code broker-1}.. and {@code redis-1}..; from the infra's PID files),
     * {@code dispatcher} and each {@code worker-N}.
     */
    public Map<String, Long> processes() throws java.io.IOException {
        Map<String, Long> processes = new LinkedHashMap<>();
        Path nodes = state.infraDir().resolve("nodes");
        String names = Files.exists(nodes) ? Files.readString(nodes).strip() : "kafka redis";
        for (String node : names.split("\\s+")) {
            Path pidFile = state.infraDir().resolve(node + ".pid");
            if (Files.exists(pidFile)) {
                processes.put(node.replaceFirst("^kafka", "broker"), Long.parseLong(Files.readString(pidFile).strip()));
            }
        }
        for (String app : state.apps()) {
            state.process(app).ifPresent(process -> processes.put(app, process.pid()));
        }
        return processes;
    }

    /** The farm's broker as its super user sees it. */
    public KafkaLogin kafkaAdmin() {
        return KafkaLogin.admin(env());
    }

    public DispatcherClient client() {
        Map<String, String> env = env();
        return new DispatcherClient(env.get("DISPATCHER_URL"), env.get("EXECFARM_API_KEY"));
    }

    /** Stops every application this farm started, then the broker and Redis. */
    public void down() throws Exception {
        apps.stopAll(state.apps()).forEach((app, pid) -> pid.ifPresent(p -> say("stopped " + app + " (pid " + p + ")")));
        if (Files.isDirectory(state.infraDir())) {
            new Infra(repoRoot, state.infraDir()).stop();
        }
        state.forgetEnv();
    }

    private void awaitSettled(KafkaLogin admin) throws Exception {
        progress.print("farm: waiting for the workers to share the request partitions ");
        long deadline = System.nanoTime() + SETTLE_TIMEOUT.toNanos();
        try (WorkerGroups groups = new WorkerGroups(admin)) {
            for (String runtime : runtimes()) {
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
                        progress.println();
                        throw new IllegalStateException("the " + runtime + " workers did not settle within "
                                + SETTLE_TIMEOUT.toSeconds() + " s (" + last + ")");
                    }
                    dot();
                    Thread.sleep(500);
                }
            }
        }
        // The dispatcher looks the groups up on its own schedule and refuses a runtime it has not seen live yet.
        while (!dispatcherSeesLive().containsAll(runtimes())) {
            if (System.nanoTime() > deadline) {
                progress.println();
                throw new IllegalStateException("the dispatcher did not see workers for " + runtimes() + " within "
                        + SETTLE_TIMEOUT.toSeconds() + " s (it sees " + dispatcherSeesLive() + ")");
            }
            dot();
            Thread.sleep(200);
        }
        progress.println(" settled");
    }

    /** The runtimes the dispatcher accepts work for, from its {@code execfarm_live_runtime} gauge. */
    private Set<String> dispatcherSeesLive() {
        return PrometheusText.samples(metrics("dispatcher"), "execfarm_live_runtime").stream()
                .filter(s -> s.value() > 0).map(s -> s.labels().get("runtime")).collect(Collectors.toSet());
    }

    /**
     * The training run of the applications' AOT caches, where a Java 25+ is installed and a cache is
     * missing or older than its application's jars (the first start after a build): a dispatcher
     * and one worker start recording, take a few hundred requests of the request path
     * ({@link #TRAINING_REQUESTS}), and write their caches as they exit. Their logs are kept as {@code aot-training-<app>.log}. A training run that fails
     * leaves the farm to start on {@code java}, as where no Java 25 is installed.
     */
    private void trainAotCaches(Map<String, String> dispatcherEnv, Map<String, String> workerEnv, String apiKey,
            KafkaLogin admin) throws Exception {
        say("training the applications' AOT caches on Java " + jvm.aotJava().orElseThrow().version()
                + " (after each build; EXECFARM_AOT=off runs them on java without)");
        apps.start("dispatcher", LocalApps.App.DISPATCHER, dispatcherEnv, jvm.training(LocalApps.App.DISPATCHER));
        apps.start("worker-1", LocalApps.App.WORKER, workerEnv, jvm.training(LocalApps.App.WORKER));
        List<String> training = state.apps();
        try {
            for (String app : training) {
                apps.awaitReady(app);
            }
            awaitWarm();
            awaitSettled(admin);
            warmRequestPath(new DispatcherClient(state.url("dispatcher"), apiKey), TRAINING_REQUESTS, false);
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) {
            say("the training run failed (" + e.getMessage() + ")");
        } finally {
            progress.print("farm: writing the AOT caches ");
            apps.stopAll(training, AOT_WRITE_GRACE);
            for (String app : training) {
                if (Files.exists(state.log(app))) {
                    Files.move(state.log(app), state.log("aot-training-" + app), StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
        progress.println(jvm.trained() ? " done" : " failed: the applications run on java without a cache (see "
                + state.log("aot-training-worker-1") + ")");
    }

    /**
     * Sends trivial requests through the whole path until it is warm: the first request on each
     * JVM, connection and partition costs up to a second or two (class loading, JIT, connections,
     * the first fetch of each partition), which a user's first request should not pay. Stops once
     * the latency stops falling and, {@code untilJitQuiet}, the JVMs' JITs are quiet
     * ({@link JitActivity}), or after {@code maxRequests}, and says how many requests that took.
     */
    private void warmRequestPath(DispatcherClient client, int maxRequests, boolean untilJitQuiet) throws Exception {
        progress.print("farm: warming the request path ");
        SteadyState.Call call = () -> client.submitAndWait("python", "None");
        SteadyState.Warmed warmed = untilJitQuiet
                ? SteadyState.reach(call, maxRequests, this::dot, new JitActivity(state.apps(), this::metrics))
                : SteadyState.reach(call, maxRequests, this::dot);
        progress.println(" " + warmed.describe());
    }

    /** Where a service finds Redis and Kafka, and its own Kafka login: no other service's, nor the admin's. */
    private static Map<String, String> appEnv(Map<String, String> infra, KafkaAccounts.Service service) {
        Map<String, String> env = new LinkedHashMap<>(KafkaAccounts.login(service, infra).appEnvironment());
        env.put("REDIS_URL", infra.get("REDIS_URL"));
        if (infra.containsKey("REDIS_CLIENT_TYPE")) {
            env.put("REDIS_CLIENT_TYPE", infra.get("REDIS_CLIENT_TYPE"));
            if (service == KafkaAccounts.Service.WORKER) {
                env.put("EXECFARM_WORKER_REPLICATED_WRITES_REPLICAS", "1");
            }
        }
        return env;
    }

    private Map<String, String> workerEnv(Map<String, String> infra, int number, Map<String, String> settings) {
        Map<String, String> env = appEnv(infra, KafkaAccounts.Service.WORKER);
        env.put("EXECFARM_JULIA", Boolean.toString(julia.isPresent()));
        julia.ifPresent(j -> env.put("EXECFARM_WORKER_RUNTIME_JULIA_BINARY", j.binary().toString()));
        env.put("EXECFARM_WORKER_ID", "worker-" + number);
        // A developer's machine may lack bubblewrap: the worker then runs user code with weaker
        // isolation, saying so in its log, where a deployed worker would refuse to start.
        env.put("EXECFARM_WORKER_SANDBOX_MINIMUM_ISOLATION", "none");
        env.putAll(appSettings);
        env.putAll(settings);
        return env;
    }

    /** The runtimes this farm's workers serve: Python, and Julia when one could be had. */
    public List<String> runtimes() {
        List<String> runtimes = new ArrayList<>(List.of("python"));
        if (julia.isPresent()) {
            runtimes.add("julia");
        }
        return runtimes;
    }

    /** The Julia interpreter the workers run, when they serve Julia. */
    public Optional<Path> juliaBinary() {
        return julia.map(JuliaLocator.Julia::binary);
    }

    private void dot() {
        progress.print('.');
        progress.flush();
    }

    private void say(String message) {
        progress.println("farm: " + message);
    }
}
