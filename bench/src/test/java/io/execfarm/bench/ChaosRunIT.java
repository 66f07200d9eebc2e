package io.execfarm.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * A short {@code ./farm chaos}: a real farm under load while a worker is killed, the broker is
 * stopped and started, and Redis is killed and started again; then on a cluster, the partition
 * leaders' broker and a Redis master are killed, alone and together with a worker. Every request
 * is answered once and every session keeps its state. The run's own verdict is the exit code.
 */
class ChaosRunIT {

    @TempDir
    Path dir;

    @Test
    void aWorkerKilledABrokerRestartAndARedisCrashLoseNothingUnderLoad() throws Exception {
        Path root = Path.of(System.getProperty("execfarm.repo.root", "..")).toAbsolutePath().normalize();
        Path report = dir.resolve("reliability.md");

        int exit = new CommandLine(new ChaosRun(root)).execute("--minutes", "1", "--faults", "3", "--workers", "2",
                "--clients", "6", "--seed", "15", "--report", report.toString(), "--state-dir", dir.resolve("farm").toString());

        String text = Files.readString(report);
        assertEquals(0, exit, text);
        for (String part : List.of("<!-- bench:chaos -->", "**Passed:** 0 lost, 0 answered twice, 0 answered with an error, 0 sessions lost, across 3 faults",
                "a worker killed (SIGKILL)", "the broker stopped", "Redis killed (SIGKILL)", "Results by status: ")) {
            assertTrue(text.contains(part), "the report lacks " + part + ":\n" + text);
        }
    }

    @Test
    void onAClusterTheLeadersBrokerARedisMasterAndAllThreeTogetherWithAWorkerLoseNothing() throws Exception {
        Path root = Path.of(System.getProperty("execfarm.repo.root", "..")).toAbsolutePath().normalize();
        Path report = dir.resolve("reliability.md");

        int exit = new CommandLine(new ChaosRun(root)).execute("--cluster", "--minutes", "1", "--faults", "3",
                "--kinds", "leader,redis,overlap", "--workers", "2", "--clients", "6", "--seed", "15", "--report",
                report.toString(), "--state-dir", dir.resolve("farm").toString());

        String text = Files.readString(report);
        assertEquals(0, exit, text);
        for (String part : List.of("<!-- bench:chaos-cluster -->", "a Redis Cluster of three masters",
                "**Passed:** 0 lost, 0 answered twice, 0 answered with an error, 0 sessions lost, across 3 faults",
                "the broker leading most request partitions killed", "a Redis master killed",
                "a broker, a Redis master and a worker killed (SIGKILL) together")) {
            assertTrue(text.contains(part), "the report lacks " + part + ":\n" + text);
        }
    }
}
