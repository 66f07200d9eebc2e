package io.execfarm.worker.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SandboxTest {

    @Test
    void aWorkerRefusesToStartWhenItsSandboxWouldBeWeakerThanItsMinimum(@TempDir Path dir) {
        Path workRoot = dir.resolve("work");
        // Capped at rlimits only, whatever this machine could do: weaker than namespaces with a uid.
        IllegalStateException refused = assertThrows(IllegalStateException.class,
                () -> Sandbox.create(settings(workRoot), Isolation.RLIMITS_ONLY, Isolation.NAMESPACES_AND_UID));
        assertTrue(refused.getMessage().contains("only RLIMITS_ONLY"), refused.getMessage());
        assertTrue(refused.getMessage().contains("minimum-isolation=NAMESPACES_AND_UID"), refused.getMessage());
        assertTrue(refused.getMessage().contains("install bubblewrap"), refused.getMessage());
        assertFalse(Files.exists(workRoot), "nothing is left behind");

        Sandbox accepted = Sandbox.create(settings(workRoot), Isolation.RLIMITS_ONLY, Isolation.RLIMITS_ONLY);
        assertEquals(Isolation.RLIMITS_ONLY, accepted.isolation());
        accepted.close();
    }

    private static SandboxSettings settings(Path workRoot) {
        return new SandboxSettings(true, workRoot, 63100, 60, 64, 1 << 20, 256, SandboxSettings.DEFAULT_TMP_BYTES,
                SandboxSettings.DEFAULT_PATH, SandboxSettings.DEFAULT_PASS_ENV, Map.of(), SandboxSettings.DEFAULT_UID_LOCK_DIR);
    }
}
