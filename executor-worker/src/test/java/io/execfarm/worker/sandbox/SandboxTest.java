package io.execfarm.worker.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
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

    @Test
    void eachProcessWritesACollectedDirectoryOfItsOwnAndTheWorkerGathersWhatItWrote(@TempDir Path dir) throws Exception {
        // The sandbox's uids traverse it to reach their own directories.
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx--x--x"));
        Sandbox sandbox = Sandbox.create(settings(dir.resolve("work"), Map.of("sh", 2)), Isolation.BUBBLEWRAP_AND_UID,
                Isolation.NONE);
        Assumptions.assumeTrue(sandbox.isolation().privateView(), "a private view needs bubblewrap");
        Path traces = Files.createDirectories(dir.resolve("traces"));
        Files.setAttribute(traces, "unix:mode", 01777);
        Confinement confinement = new Confinement(0, 0, RuntimeAccess.NONE.withCollected(traces));
        try {
            List<LaunchSpec> specs = new ArrayList<>();
            List<String> seen = new ArrayList<>();
            for (int slot = 0; slot < 2; slot++) {
                LaunchSpec spec = sandbox.prepare("sh", slot, List.of("sh", "-c",
                        "echo $0 > " + traces + "/trace-$0.jl; ls " + traces + "; ln -s /etc/hostname " + traces
                                + "/link-$0.jl", "p" + slot), confinement, Map.of());
                specs.add(spec);
                Process process = sandbox.spawn(spec, builder -> builder.redirectErrorStream(true));
                seen.add(new String(process.getInputStream().readAllBytes()).strip());
                assertTrue(process.waitFor(30, TimeUnit.SECONDS));
            }
            assertEquals(List.of("trace-p0.jl", "trace-p1.jl"), seen, "each sees its own file only");
            specs.forEach(sandbox::discard);
            assertEquals("p0\n", Files.readString(traces.resolve("trace-p0.jl")));
            assertEquals("p1\n", Files.readString(traces.resolve("trace-p1.jl")));
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(traces.resolve("trace-p1.jl"))));
            assertFalse(Files.exists(traces.resolve("link-p0.jl"), java.nio.file.LinkOption.NOFOLLOW_LINKS),
                    "a link a process made is not gathered");
        } finally {
            sandbox.close();
        }
    }

    private static SandboxSettings settings(Path workRoot) {
        return settings(workRoot, Map.of());
    }

    private static SandboxSettings settings(Path workRoot, Map<String, Integer> slots) {
        return new SandboxSettings(true, workRoot, 63100, 60, 1.0, 64, 1 << 20, 256, SandboxSettings.DEFAULT_TMP_BYTES,
                SandboxSettings.DEFAULT_PATH, SandboxSettings.DEFAULT_PASS_ENV, slots, SandboxSettings.DEFAULT_UID_LOCK_DIR);
    }
}
