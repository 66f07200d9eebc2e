package io.execfarm.localinfra;

import io.execfarm.accounts.KafkaAccounts;
import io.execfarm.accounts.KafkaLogin;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A real Kafka broker and redis-server for tests, run by the same {@code deploy/local/infra} script
 * people use: a private pair on free ports, which {@link #close()} stops (the script's watchdog
 * stops it even when this JVM dies without closing it). Only {@code EXECFARM_TEST_KAFKA_BOOTSTRAP}
 * and {@code EXECFARM_TEST_REDIS_URL}, set together (with the broker admin's password in
 * {@code EXECFARM_TEST_KAFKA_ADMIN_PASSWORD}), point the tests at a running pair instead, and
 * the tests then say so on every start; the shell's {@code KAFKA_BOOTSTRAP} and {@code REDIS_URL}
 * (what {@code ./farm env} sets) are never used, so a live farm is never a test's target.
 */
public final class LocalInfra implements TestInfra {

    private static final long START_TIMEOUT_SECONDS = 300;
    static final String REUSE_KAFKA = "EXECFARM_TEST_KAFKA_BOOTSTRAP";
    static final String REUSE_REDIS = "EXECFARM_TEST_REDIS_URL";

    static final String REUSE_KAFKA_ADMIN_PASSWORD = "EXECFARM_TEST_KAFKA_ADMIN_PASSWORD";

    private final KafkaLogin admin;
    private final Map<KafkaAccounts.Service, KafkaLogin> services;
    private final String redisUrl;
    private final boolean cluster;
    private final Path stateDir;

    private LocalInfra(KafkaLogin admin, Map<KafkaAccounts.Service, KafkaLogin> services, String redisUrl,
            boolean cluster, Path stateDir) {
        this.admin = admin;
        this.services = services;
        this.redisUrl = redisUrl;
        this.cluster = cluster;
        this.stateDir = stateDir;
    }

    /** Whether {@code EXECFARM_TEST_KAFKA_BOOTSTRAP} and {@code EXECFARM_TEST_REDIS_URL} name a running pair. */
    static boolean reuseRequested() {
        String kafka = System.getenv(REUSE_KAFKA);
        String redis = System.getenv(REUSE_REDIS);
        return kafka != null && !kafka.isBlank() && redis != null && !redis.isBlank();
    }

    public static LocalInfra startOrReuse() {
        String kafka = System.getenv(REUSE_KAFKA);
        String redis = System.getenv(REUSE_REDIS);
        if (reuseRequested()) {
            String rule = "*".repeat(100);
            System.err.printf("%n%s%nexecfarm tests: NOT starting a broker and Redis of their own: %s and %s point "
                    + "them at%nKafka %s and Redis %s. Tests that stop or freeze the broker or Redis are skipped.%n%s%n%n",
                    rule, REUSE_KAFKA, REUSE_REDIS, kafka, redis, rule);
            KafkaLogin admin = KafkaLogin.admin(kafka, System.getenv().getOrDefault(REUSE_KAFKA_ADMIN_PASSWORD, ""));
            return new LocalInfra(admin, KafkaAccounts.provision(admin, KafkaAccounts.servicePasswords(Map.of())), redis,
                    false, null);
        }
        return start(false);
    }

    /**
     * Three Kafka brokers and a Redis Cluster of three masters with a replica each, as local
     * processes of this run ({@code deploy/local/infra start --cluster}); never a running pair.
     */
    public static LocalInfra startCluster() {
        return start(true);
    }

    private static LocalInfra start(boolean cluster) {
        try {
            Path state = Files.createTempDirectory("execfarm-infra-");
            List<String> args = new java.util.ArrayList<>(List.of("start", "--state-dir", state.toString(), "--owner-pid",
                    Long.toString(ProcessHandle.current().pid())));
            if (cluster) {
                args.add("--cluster");
            }
            Map<String, String> env = parseEnv(run(args));
            String kafkaOut = env.get("KAFKA_BOOTSTRAP");
            String adminPassword = env.get("KAFKA_ADMIN_PASSWORD");
            String redisOut = env.get("REDIS_URL");
            if (kafkaOut == null || adminPassword == null || redisOut == null) {
                throw new IllegalStateException("deploy/local/infra start printed no endpoints and passwords (it printed "
                        + env.keySet() + ")");
            }
            KafkaLogin admin = KafkaLogin.admin(kafkaOut, adminPassword);
            return new LocalInfra(admin, KafkaAccounts.provision(admin, KafkaAccounts.servicePasswords(env)), redisOut,
                    cluster, state);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public KafkaLogin kafkaAdmin() {
        return admin;
    }

    @Override
    public KafkaLogin kafkaLogin(KafkaAccounts.Service service) {
        return services.get(service);
    }

    @Override
    public String redisUrl() {
        return redisUrl;
    }

    @Override
    public boolean redisCluster() {
        return cluster;
    }

    @Override
    public boolean owned() {
        return stateDir != null;
    }

    /** Freezes the component's process (SIGSTOP), and lets it go on (SIGCONT) after {@code duration}. */
    @Override
    public void pause(Component component, java.time.Duration duration) {
        if (!owned()) {
            throw new IllegalStateException("this pair was started elsewhere (" + REUSE_KAFKA + "/" + REUSE_REDIS
                    + "); it cannot be paused here");
        }
        try {
            String pid = Files.readString(stateDir.resolve(pidFile(component))).strip();
            signal("STOP", pid);
            Resume.after(duration, "execfarm-resume-" + component, () -> signal("CONT", pid));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Stops the component's process (SIGKILL when {@code kill}, else SIGTERM) and starts it again on
     * the same port with its data; Redis comes back with what its append-only file kept.
     */
    @Override
    public void restart(Component component, java.time.Duration downFor, boolean kill) {
        if (!owned()) {
            throw new IllegalStateException("this pair was started elsewhere (" + REUSE_KAFKA + "/" + REUSE_REDIS
                    + "); it cannot be restarted here");
        }
        restart(component.name().toLowerCase(java.util.Locale.ROOT), downFor, kill);
    }

    /**
     * {@link #restart(Component, java.time.Duration, boolean)} for one node of a cluster, named as
     * {@code deploy/local/infra status} names it ({@code kafka-2}, {@code redis-4}).
     */
    public void restart(String node, java.time.Duration downFor, boolean kill) {
        if (!owned()) {
            throw new IllegalStateException("this infrastructure was started elsewhere; it cannot be restarted here");
        }
        List<String> args = new java.util.ArrayList<>(List.of("restart", node, "--state-dir", stateDir.toString(),
                "--down-for", Long.toString(downFor.toSeconds())));
        if (kill) {
            args.add("--kill");
        }
        run(args);
    }

    /**
     * The node ({@code redis-1}...) that is a master now and serves {@code slot}, read from the
     * cluster's own view of itself ({@code CLUSTER NODES}, from any node); a slot below 0: any master.
     */
    public String redisMaster(String clusterNodes, int slot) {
        List<String> urls = List.of(redisUrl.split(","));
        for (String line : clusterNodes.strip().split("\n")) {
            String[] fields = line.split(" ");
            if (!fields[2].contains("master") || fields[2].contains("fail") || !servesSlot(fields, slot)) {
                continue;
            }
            String port = fields[1].substring(fields[1].indexOf(':') + 1, fields[1].indexOf('@'));
            for (int i = 0; i < urls.size(); i++) {
                if (urls.get(i).endsWith(":" + port)) {
                    return "redis-" + (i + 1);
                }
            }
        }
        throw new IllegalStateException("no master serving slot " + slot + " in " + clusterNodes);
    }

    /** Whether a CLUSTER NODES line's slot ranges (its ninth field on: "0-5460", "12000") hold the slot. */
    private static boolean servesSlot(String[] fields, int slot) {
        if (slot < 0) {
            return true;
        }
        for (int i = 8; i < fields.length; i++) {
            if (fields[i].startsWith("[")) {
                continue;
            }
            String[] range = fields[i].split("-");
            int first = Integer.parseInt(range[0]);
            int last = range.length > 1 ? Integer.parseInt(range[1]) : first;
            if (slot >= first && slot <= last) {
                return true;
            }
        }
        return false;
    }

    @Override
    public String description() {
        return owned() ? "local processes (deploy/local/infra" + (cluster ? " --cluster" : "") + "; Kafka at "
                + kafkaBootstrap() + ")"
                : "a running pair named by " + REUSE_KAFKA + " and " + REUSE_REDIS + " (Kafka at " + kafkaBootstrap() + ")";
    }

    private static String pidFile(Component component) {
        return component == Component.KAFKA ? "kafka.pid" : "redis.pid";
    }

    private static void signal(String signal, String pid) {
        try {
            Process kill = new ProcessBuilder("kill", "-" + signal, pid).inheritIO().start();
            if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
                throw new IllegalStateException("kill -" + signal + " " + pid + " failed");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        if (stateDir != null) {
            run(List.of("stop", "--state-dir", stateDir.toString()));
        }
    }

    static Map<String, String> parseEnv(String output) {
        Map<String, String> env = new HashMap<>();
        for (String line : output.split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                env.put(line.substring(0, eq).trim(), line.substring(eq + 1).trim());
            }
        }
        return env;
    }

    private static String run(List<String> args) {
        Path script = repoRoot().resolve("deploy/local/infra");
        List<String> command = new java.util.ArrayList<>(List.of("bash", script.toString()));
        command.addAll(args);
        try {
            Process process = new ProcessBuilder(command)
                    .redirectError(ProcessBuilder.Redirect.INHERIT)
                    .start();
            byte[] out = process.getInputStream().readAllBytes();
            if (!process.waitFor(START_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IllegalStateException("deploy/local/infra " + args.get(0) + " did not finish in "
                        + START_TIMEOUT_SECONDS + " s");
            }
            if (process.exitValue() != 0) {
                throw new IllegalStateException("deploy/local/infra " + args.get(0) + " failed with exit code "
                        + process.exitValue() + "; its messages are above");
            }
            return new String(out, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running deploy/local/infra", e);
        }
    }

    /** The checkout's root: named by the build, else found by walking up from the working directory. */
    public static Path repoRoot() {
        String named = System.getProperty("execfarm.repo.root");
        if (named != null && Files.isRegularFile(Path.of(named, "deploy/local/infra"))) {
            return Path.of(named);
        }
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve("deploy/local/infra"))) {
                return dir;
            }
        }
        throw new IllegalStateException("cannot find deploy/local/infra above " + Path.of("").toAbsolutePath());
    }
}
