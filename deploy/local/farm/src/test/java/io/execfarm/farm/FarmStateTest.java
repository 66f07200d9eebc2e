package io.execfarm.farm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FarmStateTest {

    @TempDir
    Path dir;

    @Test
    void aPidCountsOnlyWhileItsProcessCarriesTheFarmsMarker() throws Exception {
        FarmState state = new FarmState(dir);
        Process ours = new ProcessBuilder("bash", "-c", "sleep 30; true", state.marker()).start();
        Process stranger = new ProcessBuilder("sleep", "30").start();
        try {
            state.recordApp("worker-1", ours.pid(), 1234);
            state.recordApp("worker-2", stranger.pid(), 1235);
            assertTrue(state.process("worker-1").isPresent(), "a process with the marker is the farm's");
            assertFalse(state.process("worker-2").isPresent(), "a reused PID is never taken for the farm's");
            ours.destroyForcibly().waitFor();
            assertFalse(state.process("worker-1").isPresent(), "an exited process is not running");
        } finally {
            ours.destroyForcibly();
            stranger.destroyForcibly();
        }
    }

    @Test
    void appsListTheDispatcherFirstThenWorkersInNumberOrder() {
        FarmState state = new FarmState(dir);
        for (String app : List.of("worker-10", "worker-2", "dispatcher", "worker-1")) {
            state.recordApp(app, 1, 1);
        }
        assertEquals(List.of("dispatcher", "worker-1", "worker-2", "worker-10"), state.apps());
        state.forgetApp("worker-2");
        assertEquals(List.of("worker-1", "worker-10"), state.workers());
    }

    @Test
    void theEnvironmentSurvivesItsFile() {
        FarmState state = new FarmState(dir);
        Map<String, String> env = Map.of("DISPATCHER_URL", "http://127.0.0.1:1/x=y");
        state.writeEnv(env);
        assertEquals(env, state.env().orElseThrow());
        assertFalse(state.isUp(), "no dispatcher runs");
        state.forgetEnv();
        assertTrue(state.env().isEmpty());
    }
}
