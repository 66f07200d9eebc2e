package io.execfarm.farm;

import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Starts and stops the farm's dispatcher and workers: packaged Quarkus applications, each a JVM of
 * its own in a session of its own ({@code setsid}), so a Ctrl-C in the terminal that started them
 * does not reach them and they outlive this command; {@code ./farm down} stops them.
 */
final class LocalApps {

    /** The packaged applications this farm runs, and the variable that sets each one's HTTP port. */
    enum App {
        DISPATCHER("dispatcher", "DISPATCHER_PORT"),
        WORKER("executor-worker", "WORKER_HTTP_PORT");

        private final String module;
        private final String portVariable;

        App(String module, String portVariable) {
            this.module = module;
            this.portVariable = portVariable;
        }

        Path jar(Path repoRoot) {
            return repoRoot.resolve(module).resolve("target/quarkus-app/quarkus-run.jar");
        }
    }

    private static final Duration READY_TIMEOUT = Duration.ofSeconds(180);
    private static final Duration STOP_GRACE = Duration.ofSeconds(15);

    private final Path repoRoot;
    private final FarmState state;
    private final PrintStream progress;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    LocalApps(Path repoRoot, FarmState state, PrintStream progress) {
        this.repoRoot = repoRoot;
        this.state = state;
        this.progress = progress;
    }

    /**
     * Starts an application without waiting for it, on the JVM and with the options {@code launch}
     * says; its output goes to its log in the state directory.
     */
    void start(String name, App app, Map<String, String> env, AppJvm.Launch launch) throws IOException {
        Path jar = app.jar(repoRoot);
        if (!Files.isRegularFile(jar)) {
            throw new IOException(jar + " is missing; ./farm builds it when started from the repository");
        }
        int port = freePort();
        List<String> command = new ArrayList<>(List.of("setsid", launch.java(), "-Xmx512m", state.marker()));
        command.addAll(launch.options());
        command.addAll(List.of("-jar", jar.toString()));
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectErrorStream(true)
                .redirectOutput(state.log(name).toFile());
        builder.environment().putAll(env);
        builder.environment().put(app.portVariable, Integer.toString(port));
        Process process = builder.start();
        state.recordApp(name, process.pid(), port);
    }

    /** Waits until the application's readiness check passes, printing a dot a second. */
    void awaitReady(String name) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        HttpRequest ready = HttpRequest.newBuilder(URI.create(state.url(name) + "/q/health/ready"))
                .timeout(Duration.ofSeconds(2)).build();
        while (true) {
            if (!state.alive(name)) {
                throw new IOException(name + " exited during start-up:\n" + tail(state.log(name)));
            }
            try {
                if (http.send(ready, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    progress.println(" " + name + " ready");
                    return;
                }
            } catch (IOException e) {
                // Not listening yet.
            }
            if (System.nanoTime() > deadline) {
                throw new IOException(name + " was not ready within " + READY_TIMEOUT.toSeconds() + " s:\n"
                        + tail(state.log(name)));
            }
            progress.print('.');
            progress.flush();
            Thread.sleep(1000);
        }
    }

    /** Stops an application: SIGTERM, then SIGKILL after a grace period. Returns its PID if it was running. */
    Optional<Long> stop(String name) {
        return stopAll(List.of(name)).getOrDefault(name, Optional.empty());
    }

    /**
     * Stops applications together: SIGTERM to each, then a wait for all within one grace period
     * (SIGKILL for those still running). Each one's shutdown is mostly waiting (leaving its group,
     * draining), so together take as long as the slowest. Returns each one's PID where it was running.
     */
    Map<String, Optional<Long>> stopAll(List<String> names) {
        return stopAll(names, STOP_GRACE);
    }

    /** {@link #stopAll(List)} with a grace of the caller's: a JVM writing its AOT cache as it exits takes longer. */
    Map<String, Optional<Long>> stopAll(List<String> names, Duration grace) {
        Map<String, Optional<ProcessHandle>> processes = new LinkedHashMap<>();
        for (String name : names) {
            Optional<ProcessHandle> process = state.process(name);
            process.ifPresent(ProcessHandle::destroy);
            processes.put(name, process);
        }
        long deadline = System.nanoTime() + grace.toNanos();
        Map<String, Optional<Long>> pids = new LinkedHashMap<>();
        processes.forEach((name, process) -> {
            process.ifPresent(handle -> {
                try {
                    handle.onExit().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                } catch (Exception e) {
                    handle.destroyForcibly();
                }
            });
            state.forgetApp(name);
            pids.put(name, process.map(ProcessHandle::pid));
        });
        return pids;
    }

    static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return "(no log at " + log + ")";
        }
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free port", e);
        }
    }
}
