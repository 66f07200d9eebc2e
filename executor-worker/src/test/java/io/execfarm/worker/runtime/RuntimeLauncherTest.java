package io.execfarm.worker.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.execfarm.contracts.Result;
import io.execfarm.worker.sandbox.Sandbox;
import io.execfarm.worker.sandbox.SandboxSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RuntimeLauncherTest {

    @Test
    void eachProcessGetsItsOwnNameWhereAFlagAsksForIt() throws Exception {
        RuntimeDefinition python = KnownRuntimes.python();
        RuntimeDefinition named = python.withExtraFlags(List.of("-X", "execfarm_process=" + RuntimeLauncher.PROCESS_TOKEN))
                .withWarmUp("");
        Path workRoot = Files.createTempDirectory("execfarm-launcher-");
        Sandbox sandbox = Sandbox.create(new SandboxSettings(true, workRoot, 63000, 60, 1.0, 64, 1 << 20, 256, SandboxSettings.DEFAULT_TMP_BYTES,
                SandboxSettings.DEFAULT_PATH, SandboxSettings.DEFAULT_PASS_ENV, Map.of("python", 2),
                SandboxSettings.DEFAULT_UID_LOCK_DIR));
        try {
            RuntimeLauncher launcher = RuntimeLauncher.prepare(named, sandbox, new ObjectMapper());
            RuntimeProcess first = launcher.start(0);
            RuntimeProcess second = launcher.start(1);
            try {
                String a = name(first);
                String b = name(second);
                // The worker's pid keeps two workers' processes apart, the slot two of one worker's.
                long worker = ProcessHandle.current().pid();
                assertTrue(a.startsWith("'python-" + worker + "-0-"), a);
                assertTrue(b.startsWith("'python-" + worker + "-1-"), b);
                assertNotEquals(a, b);
            } finally {
                launcher.dispose(first);
                launcher.dispose(second);
            }
        } finally {
            sandbox.close();
        }
    }

    private static String name(RuntimeProcess process) throws InterruptedException {
        ExecutionOutcome outcome = process.execute(new ExecutionSpec("n", "import sys\nsys._xoptions['execfarm_process']",
                null, 1 << 10, Duration.ofSeconds(10)), OutputSink.DISCARD);
        assertEquals(Result.Status.OK, outcome.status(), outcome::toString);
        return outcome.value();
    }
}
