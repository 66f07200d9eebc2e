package io.execfarm.worker.runtime;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.execfarm.worker.sandbox.CgroupVersion;
import io.execfarm.worker.sandbox.GroupCounters;
import io.execfarm.worker.sandbox.ProcessCgroup;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * The verdicts of {@link RestCheck} on a control group's files written by the test (a v1 layout in
 * a temporary directory), for a driver that is a real process waiting in a read, as a driver at
 * rest waits for its next command.
 */
class RestCheckTest {

    @TempDir
    Path dir;
    private Process sleeper;
    private GroupCounters counters;
    private RestCheck check;

    @BeforeEach
    void restingProcess() throws IOException {
        sleeper = new ProcessBuilder("cat").start();
        write("pids.current", "5");
        write("cgroup.procs", "");
        write("memory.stat", "cache 0\nrss 4096\nshmem 8192\nmapped_file 0\n");
        write("cpuacct.usage", "1000000000");
        ProcessCgroup group = new ProcessCgroup(CgroupVersion.V1, dir, dir, Optional.of(dir), Optional.empty(),
                1 << 30, 64, 2);
        counters = group.openCounters();
        check = new RestCheck(Optional.of(counters), group.lifetimeCpuSeconds(), sleeper.pid());
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
    @EnabledIfSystemProperty(named = "os.arch", matches = "amd64|x86_64|aarch64|arm64")
    void aDriverReadingDeeperInItsStackThanAtRestIsAwayFromIt() throws Exception {
        // Its first read is where it rests; the second, a byte later, is code run by exec() reading
        // in its place: the same call on the same descriptor, from a deeper stack. No control group.
        Process driver = new ProcessBuilder("python3", "-c",
                "import os\nos.read(0, 1)\nexec('import os\\nos.read(0, 1)')").start();
        Path syscall = Path.of("/proc", Long.toString(driver.pid()), "syscall");
        try (RestCheck away = new RestCheck(Optional.empty(), 0, driver.pid())) {
            await().atMost(Duration.ofSeconds(30)).until(() -> Files.readString(syscall).matches("(0|63) 0x0 .*\\s*"));
            String resting = Files.readString(syscall);
            away.baseline();
            assertEquals(Optional.empty(), away.afterRequest());
            driver.getOutputStream().write('x');
            driver.getOutputStream().flush();
            // Once it blocks in its second read: a woken thread shows its old call until it runs.
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                String now = Files.readString(syscall);
                return now.startsWith(resting.substring(0, resting.indexOf(' ') + 1)) && !now.equals(resting);
            });
            assertEquals(Optional.of(Unrest.AWAY_FROM_REST), away.afterRequest());
        } finally {
            driver.destroyForcibly();
        }
    }

    @Test
    void aPosixTimerMoreThanAtRestIsOneLeftArmed() throws Exception {
        // At rest in its read; a byte makes it create a timer (an hour away) and wait where it waited.
        Process driver = new ProcessBuilder("python3", "-c", """
                import ctypes, os
                libc = ctypes.CDLL(None)
                timer = ctypes.c_void_p()
                while True:
                    os.read(0, 1)
                    if not timer.value:
                        assert libc.timer_create(1, None, ctypes.byref(timer)) == 0
                        assert libc.timer_settime(timer, 0, (ctypes.c_long * 4)(0, 0, 3600, 0), None) == 0
                        print('armed', flush=True)
                """).start();
        Path timers = Path.of("/proc", Long.toString(driver.pid()), "timers");
        Path syscall = Path.of("/proc", Long.toString(driver.pid()), "syscall");
        try (RestCheck armed = new RestCheck(Optional.empty(), 0, driver.pid())) {
            Assumptions.assumeTrue(Files.isReadable(timers), "this kernel lists no timers (CONFIG_CHECKPOINT_RESTORE)");
            await().atMost(Duration.ofSeconds(30)).until(() -> Files.readString(syscall).matches("(0|63) 0x0 .*\\s*"));
            armed.baseline();
            assertEquals(Optional.empty(), armed.afterRequest());
            driver.getOutputStream().write('x');
            driver.getOutputStream().flush();
            assertEquals("armed", new String(driver.getInputStream().readNBytes(5), StandardCharsets.US_ASCII));
            assertEquals(Optional.of(Unrest.TIMER_LEFT), armed.afterRequest());
        } finally {
            driver.destroyForcibly();
        }
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
