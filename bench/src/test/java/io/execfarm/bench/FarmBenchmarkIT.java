package io.execfarm.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code ./farm bench --quick} end to end: a real farm starts, every part of the benchmark runs
 * against it, the report and its charts are written, and the farm is stopped. It checks that the
 * benchmark works, never how fast anything was.
 */
class FarmBenchmarkIT {

    private static final byte[] PNG = {(byte) 0x89, 'P', 'N', 'G'};

    @TempDir
    Path dir;

    @Test
    void aQuickRunWritesEveryPartOfTheReportWithItsChartsAndStopsItsFarm() throws Exception {
        Path root = Path.of(System.getProperty("execfarm.repo.root", "..")).toAbsolutePath().normalize();
        Path report = dir.resolve("benchmarks.md");
        Path state = dir.resolve("farm");

        List<String> args = new java.util.ArrayList<>(List.of("--quick", "--report", report.toString(), "--state-dir",
                state.toString()));
        // CI built Julia's system image for its conformance run; the smoke run measures that one
        // rather than build another beside its other parts (minutes of two cores).
        String sysimage = System.getenv("EXECFARM_JULIA_SYSIMAGE");
        if (sysimage != null && Files.isRegularFile(Path.of(sysimage))) {
            args.addAll(List.of("--julia-sysimage", sysimage));
        }
        int exit = new CommandLine(new FarmBenchmark(root)).execute(args.toArray(String[]::new));

        assertEquals(0, exit);
        String text = Files.readString(report);
        for (String part : List.of("<!-- bench:farm -->", "### Goals", "### 1. Latency", "### 2. Warm versus cold",
                "### 3. Scaling", "### 4. Where the time goes", "| Kafka, partitioned | 50 |", "| Kafka, shared | 50 |",
                "| HTTP (shared) | 50 |", "| bare baseline | 50 |", "**Against the bare baseline**",
                "**CPU per execution by process**", "| Kafka, partitioned c=50 | ", "| Kafka, shared c=50 | ",
                "Kafka clients per worker (this one serving ",
                "| python | trivial expression |", "A new worker taking its share", "| 2 | 48 |",
                "## What tracing costs: `./farm bench --quick`", "| off | ", "| exporting | ", "throughput lost to exporting every trace")) {
            assertTrue(text.contains(part), "the report lacks " + part + ":\n" + text);
        }
        assertFalse(text.contains("NaN"), text);
        assertTrue(text.lines().anyMatch(line -> line.matches("\\| exporting \\|.*\\| [1-9][0-9]* \\|")),
                "the farm exporting traces sent some to the receiver:\n" + text);
        if (Boolean.parseBoolean(System.getenv("EXECFARM_REQUIRE_JULIA"))) {
            for (String part : List.of("| julia | LinearAlgebra, 200×200 product |",
                    "### 5. Julia on a system image built ", "| Statistics on random data |")) {
                assertTrue(text.contains(part), "the report lacks " + part + ":\n" + text);
            }
            assertFalse(text.contains("**Not measured:**"), text);
        }
        for (String chart : List.of("latency", "scaling", "takeover", "breakdown")) {
            Path png = dir.resolve("bench").resolve(chart + ".png");
            assertTrue(text.contains("](bench/" + chart + ".png)"), "the report does not show " + chart);
            byte[] bytes = Files.readAllBytes(png);
            assertArrayEquals(PNG, Arrays.copyOf(bytes, 4), chart + ".png is not a PNG");
        }
        try (var files = Files.list(state)) {
            assertTrue(files.noneMatch(f -> f.toString().endsWith(".pid")), "an application is still recorded as running");
        }
        assertFalse(Files.exists(state.resolve("env")), "the farm is still recorded as up");
    }
}
