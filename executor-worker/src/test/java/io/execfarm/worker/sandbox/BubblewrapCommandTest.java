package io.execfarm.worker.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BubblewrapCommandTest {

    @Test
    void anInterpreterOutsideTheSystemDirectoriesHasItsInstallationShown(@TempDir Path dir) throws Exception {
        Path bin = Files.createDirectories(dir.resolve("julia-9.9/bin"));
        Path julia = Files.writeString(bin.resolve("julia"), "");
        Files.setPosixFilePermissions(julia, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path links = Files.createDirectories(dir.resolve("links"));
        Files.createSymbolicLink(links.resolve("julia"), julia);
        Path home = dir.resolve("julia-9.9").toRealPath();

        assertEquals(Optional.of(home), BubblewrapCommand.installation(julia.toString(), "/usr/bin"));
        assertEquals(Optional.of(home), BubblewrapCommand.installation("julia", "/nowhere:" + links));
        assertEquals(Optional.empty(), BubblewrapCommand.installation("sh", "/usr/bin:/bin"));
        assertEquals(Optional.empty(), BubblewrapCommand.installation("no-such-interpreter", "/usr/bin"));
    }

    @Test
    void theViewIsBuiltInOrderAndEndsWithTheProcesssOwnCappedDirectory(@TempDir Path dir) throws Exception {
        Path work = Files.createDirectories(dir.resolve("work"));
        Path drivers = Files.createDirectories(dir.resolve("drivers"));
        Path filter = Files.writeString(dir.resolve("filter.bpf"), "x");
        RuntimeAccess access = RuntimeAccess.NONE.withReadOnly(Path.of("/opt/image.so")).withCollected(Path.of("/traces"));
        Path ownTraces = dir.resolve("work-collected-0");
        List<String> args = BubblewrapCommand.arguments(work, drivers, "sh", "/usr/bin", access,
                Map.of(Path.of("/traces"), ownTraces), 1024, filter);

        assertEquals(List.of("sh", "-c", "exec \"$@\" 3<\"$0\"", filter.toString(), "bwrap", "--seccomp", "3"),
                args.subList(0, 7));
        assertTrue(args.containsAll(List.of("--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent")));
        assertEquals(-1, args.indexOf("--share-net"), "no network unless asked for");
        int tmp = args.indexOf("/tmp");
        assertTrue(tmp > 0 && args.get(tmp - 1).equals("--tmpfs") && args.get(tmp - 2).equals("1024"), args::toString);
        assertTrue(Collections.indexOfSubList(args, List.of("--ro-bind", drivers.toString(), drivers.toString())) > tmp,
                "the drivers are bound after /tmp, which would hide them");
        assertTrue(Collections.indexOfSubList(args, List.of("--ro-bind", "/opt/image.so", "/opt/image.so")) > 0);
        assertTrue(Collections.indexOfSubList(args, List.of("--bind", ownTraces.toString(), "/traces")) > 0,
                "its own directory in the traces' place: " + args);
        assertEquals(List.of("--size", "1024", "--tmpfs", work.toString(), "--chdir", work.toString(), "--"),
                args.subList(args.size() - 7, args.size()));
        assertTrue(Collections.indexOfSubList(args, List.of("--dev", "/dev", "--size", "1024", "--tmpfs", "/dev/shm",
                "--remount-ro", "/dev")) > 0, "a capped /dev/shm in a read-only /dev: " + args);

        List<String> networked = BubblewrapCommand.arguments(work, drivers, "sh", "/usr/bin",
                new RuntimeAccess(List.of(), List.of(), true), Map.of(), 1024, filter);
        assertTrue(networked.contains("--share-net"));
    }
}
