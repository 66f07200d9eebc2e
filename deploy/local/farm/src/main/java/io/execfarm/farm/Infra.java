package io.execfarm.farm;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The broker and Redis of a farm, through the same {@code deploy/local/infra} script the tests
 * use. Its progress goes straight to the terminal.
 */
final class Infra {

    private final Path script;
    private final Path stateDir;

    Infra(Path repoRoot, Path stateDir) {
        this.script = repoRoot.resolve("deploy/local/infra");
        this.stateDir = stateDir;
    }

    /**
     * Starts both (or finds them running); returns KAFKA_BOOTSTRAP, the Kafka passwords and REDIS_URL.
     * {@code open}: a broker without SASL or ACLs, to measure what they cost; {@code cluster}: three
     * brokers and a Redis Cluster of six nodes (REDIS_CLIENT_TYPE=cluster among what it returns).
     */
    Map<String, String> start(boolean open, boolean cluster) throws IOException, InterruptedException {
        List<String> args = new ArrayList<>(List.of("start", "--state-dir", stateDir.toString()));
        if (open) {
            args.add("--open");
        }
        if (cluster) {
            args.add("--cluster");
        }
        String out = run(args);
        Map<String, String> env = new LinkedHashMap<>();
        out.lines().filter(line -> line.contains("=")).forEach(line ->
                env.put(line.substring(0, line.indexOf('=')), line.substring(line.indexOf('=') + 1)));
        if (!env.containsKey("KAFKA_BOOTSTRAP") || !env.containsKey("REDIS_URL")) {
            throw new IOException("deploy/local/infra start printed no KAFKA_BOOTSTRAP and REDIS_URL: " + out);
        }
        return env;
    }

    void stop() throws IOException, InterruptedException {
        run(List.of("stop", "--state-dir", stateDir.toString()));
    }

    /**
     * Stops {@code node} ({@code kafka} or {@code redis}; on a cluster {@code kafka-1}..{@code kafka-3},
     * {@code redis-1}..{@code redis-6}) for real and starts it again with its data.
     */
    void restart(String node, java.time.Duration downFor, boolean kill) throws IOException, InterruptedException {
        List<String> args = new ArrayList<>(List.of("restart", node, "--state-dir", stateDir.toString(),
                "--down-for", Long.toString(downFor.toSeconds())));
        if (kill) {
            args.add("--kill");
        }
        run(args);
    }

    private String run(List<String> args) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(script.toString());
        builder.command().addAll(args);
        builder.redirectError(ProcessBuilder.Redirect.INHERIT).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        Process process = builder.start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (process.waitFor() != 0) {
            throw new IOException("deploy/local/infra " + String.join(" ", args) + " failed (exit "
                    + process.exitValue() + "); see above");
        }
        return out;
    }
}
