package io.execfarm.localinfra;

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
import java.util.concurrent.TimeUnit;

/** A packaged worker (executor-worker/target/quarkus-app) running as a process of its own, as in production. */
public final class WorkerProcess implements AutoCloseable {

    private static final Path JAR = LocalInfra.repoRoot().resolve("executor-worker/target/quarkus-app/quarkus-run.jar");

    private final String id;
    private final Process process;
    private final int port;
    private final Path log;

    private WorkerProcess(String id, Process process, int port, Path log) {
        this.id = id;
        this.process = process;
        this.port = port;
        this.log = log;
    }

    /**
     * Starts a worker serving Python (Julia off) against {@code infra}, and waits until it is ready.
     *
     * @param properties extra system properties, {@code name=value}
     */
    public static WorkerProcess start(String id, LocalInfra infra, List<String> properties) throws IOException {
        if (!Files.isRegularFile(JAR)) {
            throw new IllegalStateException(JAR + " is missing: build it with ./mvnw package (the tests: ./mvnw verify)");
        }
        int port = freePort();
        Path log = Files.createDirectories(JAR.getParent().getParent().resolve("worker-logs")).resolve(id + ".log");
        List<String> command = new ArrayList<>(List.of("java", "-Xmx512m", "-Dexecfarm.worker.id=" + id));
        properties.forEach(p -> command.add("-D" + p));
        command.addAll(List.of("-jar", JAR.toString()));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        builder.environment().put("KAFKA_BOOTSTRAP", infra.kafkaBootstrap());
        builder.environment().put("REDIS_URL", infra.redisUrl());
        builder.environment().put("WORKER_HTTP_PORT", Integer.toString(port));
        builder.environment().put("EXECFARM_JULIA", "false");
        WorkerProcess worker = new WorkerProcess(id, builder.start(), port, log);
        worker.awaitReady(Duration.ofSeconds(90));
        return worker;
    }

    public String id() {
        return id;
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
                throw new IllegalStateException("worker " + id + " exited during start-up; see " + log.toAbsolutePath());
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
        throw new IllegalStateException("worker " + id + " not ready within " + timeout + "; see " + log.toAbsolutePath());
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
