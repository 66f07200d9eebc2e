package io.execfarm.worker.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.execfarm.worker.sandbox.CgroupVersion;
import io.execfarm.worker.sandbox.GroupCounters;
import io.execfarm.worker.sandbox.ProcessCgroup;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The verdicts of {@link RestCheck} on a control group's files written by the test (a v1 layout in
 * a temporary directory), for a driver that is a real sleeping process.
 */
class RestCheckTest {

    @TempDir
    Path dir;
    private Process sleeper;
    private GroupCounters counters;
    private RestCheck check;

    @BeforeEach
    void restingProcess() throws IOException {
        sleeper = new ProcessBuilder("sleep", "60").start();
        write("pids.current", "5");
        write("cgroup.procs", "");
        write("memory.stat", "cache 0\nrss 4096\nshmem 8192\nmapped_file 0\n");
        write("cpuacct.usage", "1000000000");
        ProcessCgroup group = new ProcessCgroup(CgroupVersion.V1, dir, dir, Optional.of(dir), Optional.empty(),
                1 << 30, 64, 2);
        counters = group.openCounters();
        check = new RestCheck(counters, group.lifetimeCpuSeconds(), sleeper.pid());
        check.baseline();
    }

    @AfterEach
    void stop() {
        check.close();
        sleeper.destroyForcibly();
    }

    @Test
    void aProcessAsItWasAtItsBaselineIsAtRest() {
        assertEquals(Optional.empty(), check.afterRequest());
        assertEquals(Optional.empty(), check.whileIdle());
    }

    @Test
    void aTaskMoreThanAtRestIsOneLeftBehind() throws IOException {
        write("pids.current", "6");
        assertEquals(Optional.of(Unrest.TASKS_LEFT), check.afterRequest());
        assertEquals(Optional.of(Unrest.TASKS_LEFT), check.whileIdle());
    }

    @Test
    void sharedMemoryHeldPastTheSlackIsHeld() throws IOException {
        write("memory.stat", "cache 0\nrss 4096\nshmem " + (8192 + (2 << 20)) + "\nmapped_file 0\n");
        assertEquals(Optional.of(Unrest.MEMORY_HELD), check.afterRequest());
    }

    @Test
    void cpuUsedWhileIdleBeyondTheAllowanceIsRunningWhileIdle() throws IOException {
        write("cpuacct.usage", Long.toString(1_000_000_000L + 5_000_000));
        assertEquals(Optional.empty(), check.whileIdle(), "5 ms: within what a driver spends settling");
        write("cpuacct.usage", Long.toString(1_000_000_000L + 50_000_000));
        assertEquals(Optional.of(Unrest.IDLE_CPU), check.whileIdle());
    }

    @Test
    void aProcessPastItsLifetimeCpuIsRetiredBetweenRequests() throws IOException {
        check.markBusy();
        write("cpuacct.usage", Long.toString(2_500_000_000L));
        assertEquals(Optional.of(Unrest.CPU_SPENT), check.afterRequest());
    }

    private void write(String file, String content) throws IOException {
        Files.writeString(dir.resolve(file), content + "\n");
    }
}
