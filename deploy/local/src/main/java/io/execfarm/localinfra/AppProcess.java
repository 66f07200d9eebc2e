package io.execfarm.localinfra;

import io.execfarm.accounts.KafkaAccounts;
import io.execfarm.accounts.KafkaLogin;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** A packaged execfarm application (target/quarkus-app of its module) running as a process of its own, as in production. */
public final class AppProcess implements AutoCloseable {

    /** The applications, with the module they are built in and the variable that sets their HTTP port. */
    public enum App {
        WORKER("executor-worker", "WORKER_HTTP_PORT"),
        DISPATCHER("dispatcher", "DISPATCHER_PORT");

        private final String module;
        private final String portVariable;

        App(String module, String portVariable) {
            this.module = module;
            this.portVariable = portVariable;
        }

        Path jar() {
            return LocalInfra.repoRoot().resolve(module).resolve("target/quarkus-app/quarkus-run.jar");
        }
    }

    private final String id;
    private final Process process;
    private final int port;
    private final Path log;

    private AppProcess(String id, Process process, int port, Path log) {
        this.id = id;
        this.process = process;
        this.port = port;
        this.log = log;
    }

    /**
     * Starts a worker serving Python (Julia off) on the given Kafka (as the worker's user) and Redis,
     * and waits until it is ready.
     *
     * @param properties extra system properties, {@code name=value}
     */
    public static AppProcess worker(String id, TestInfra infra, List<String> properties) throws IOException {
        Map<String, String> env = new java.util.HashMap<>(Map.of("EXECFARM_JULIA", "false"));
        if (infra.redisCluster()) {
            env.put("EXECFARM_WORKER_REPLICATED_WRITES_REPLICAS", "1");
        }
        return start(App.WORKER, id, infra.kafkaLogin(KafkaAccounts.Service.WORKER), infra, env, properties);
    }

    /** Starts a dispatcher with the given environment (API keys, for example) and waits until it is ready. */
    public static AppProcess dispatcher(String id, TestInfra infra, Map<String, String> env, List<String> properties)
            throws IOException {
        return start(App.DISPATCHER, id, infra.kafkaLogin(KafkaAccounts.Service.DISPATCHER), infra, env, properties);
    }

    /** @param kafka where the application's Kafka is and whom it logs in as */
    private static AppProcess start(App app, String id, KafkaLogin kafka, TestInfra infra, Map<String, String> env,
            List<String> properties) throws IOException {
        Path jar = app.jar();
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(jar + " is missing: build it with ./mvnw package (the tests: ./mvnw verify)");
        }
        int port = freePort();
        Path log = Files.createDirectories(jar.getParent().getParent().resolve("app-logs")).resolve(id + ".log");
        // C1 only, as the test JVMs (the parent pom's test.jvm.args): a test's application lives minutes.
        List<String> command = new ArrayList<>(List.of("java", "-Xmx512m", "-XX:TieredStopAtLevel=1",
                "-Dexecfarm.worker.id=" + id));
        properties.forEach(p -> command.add("-D" + p));
        command.addAll(List.of("-jar", jar.toString()));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        builder.environment().putAll(env);
        builder.environment().putAll(kafka.appEnvironment());
        builder.environment().put("REDIS_URL", infra.redisUrl());
        if (infra.redisCluster()) {
            builder.environment().put("REDIS_CLIENT_TYPE", "cluster");
        }
        builder.environment().put(app.portVariable, Integer.toString(port));
        AppProcess started = new AppProcess(id, builder.start(), port, log);
        started.awaitReady(Duration.ofSeconds(90));
        return started;
    }

    public String id() {
        return id;
    }

    /** Where its HTTP server listens, e.g. http://127.0.0.1:41234 */
    public String url() {
        return "http://127.0.0.1:" + port;
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** SIGKILL: no shutdown hook, no commit, no goodbye to the group. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroy();
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
    }

    private void awaitReady(Duration timeout) {
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException(id + " exited during start-up; see " + log.toAbsolutePath());
            }
            try {
                HttpResponse<String> response = http.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + port + "/q/health/ready")).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() == 200) {
                    return;
                }
                Thread.sleep(200);
            } catch (IOException e) {
                sleep();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        throw new IllegalStateException(id + " not ready within " + timeout + "; see " + log.toAbsolutePath());
    }

    private static void sleep() {
        try {
            Thread.sleep(200);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
