package io.execfarm.worker.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Which layout the worker picks and which files it writes, on directory trees shaped like each
 * kind of cgroup mount. The kernel's side of v1 (limits enforced, kills counted) is tested for
 * real by SandboxTest and the conformance suite; this machine cannot mount v2 with controllers.
 */
class CgroupsTest {

    @TempDir
    Path mount;

    @Test
    void cgroupV1GivesEachProcessAGroupInTheMemoryAndThePidsHierarchies() throws IOException {
        Path memory = group(mount.resolve("memory/system.slice/worker"), "");
        Path pids = group(mount.resolve("pids/system.slice/worker"), "");
        Path cpuacct = group(mount.resolve("cpuacct/system.slice/worker"), "");
        Path cpu = group(mount.resolve("cpu/system.slice/worker"), "");
        Cgroups cgroups = Cgroups.create(mount, List.of("12:pids:/system.slice/worker",
                "9:memory:/system.slice/worker", "3:cpuacct:/system.slice/worker", "2:cpu:/system.slice/worker",
                "0::/system.slice/worker"), 42, "a").orElseThrow();
        Files.createDirectories(memory.resolve("execfarm-42-a/slot-1"));
        Files.writeString(memory.resolve("execfarm-42-a/slot-1/memory.memsw.limit_in_bytes"), "max");

        ProcessCgroup group = cgroups.create("slot-1", 1 << 30, 64, 1.5, 3600);

        assertEquals(CgroupVersion.V1, group.version());
        assertEquals("150000", Files.readString(cpu.resolve("execfarm-42-a/slot-1/cpu.cfs_quota_us")), "1.5 CPUs");
        assertEquals("100000", Files.readString(cpu.resolve("execfarm-42-a/slot-1/cpu.cfs_period_us")));
        Files.writeString(cpuacct.resolve("execfarm-42-a/slot-1/cpuacct.usage"), "123456789\n");
        Files.writeString(pids.resolve("execfarm-42-a/slot-1/pids.current"), "7\n");
        Files.writeString(pids.resolve("execfarm-42-a/slot-1/cgroup.procs"), "10\n11\n");
        Files.writeString(memory.resolve("execfarm-42-a/slot-1/memory.stat"), "cache 4096\nrss 8192\nshmem 65536\nmapped_file 0\n");
        try (GroupCounters counters = group.openCounters()) {
            assertEquals(123456789, counters.cpuNanos().orElseThrow());
            assertEquals(7, counters.tasks());
            assertEquals(List.of(10L, 11L), counters.processes());
            assertEquals(65536, counters.sharedMemoryBytes());
        }
        assertEquals(memory.resolve("execfarm-42-a/slot-1"), group.memory());
        assertEquals(pids.resolve("execfarm-42-a/slot-1"), group.pids());
        assertEquals("1073741824", Files.readString(group.memory().resolve("memory.limit_in_bytes")));
        assertEquals("1073741824", Files.readString(group.memory().resolve("memory.memsw.limit_in_bytes")));
        assertEquals("64", Files.readString(group.pids().resolve("pids.max")));
        assertEquals(List.of(group.memory().resolve("cgroup.procs").toString(),
                group.pids().resolve("cgroup.procs").toString(), cpuacct.resolve("execfarm-42-a/slot-1/cgroup.procs").toString(),
                cpu.resolve("execfarm-42-a/slot-1/cgroup.procs").toString(), "--"), group.join().subList(4, 9));
        Files.writeString(group.memory().resolve("memory.oom_control"), "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
        Files.writeString(group.pids().resolve("pids.events"), "max 5\n");
        assertEquals(2, group.memoryKills());
        assertEquals(5, group.refusedForks());
    }

    @Test
    void cgroupV2MovesTheWorkerToALeafAndDelegatesMemoryAndPidsToTheProcessesParent() throws IOException {
        Files.writeString(mount.resolve("cgroup.controllers"), "cpuset cpu io memory hugetlb pids rdma misc\n");
        Path own = group(mount.resolve("docker/abc"), "cpu io memory pids\n");
        Files.writeString(own.resolve("cgroup.procs"), "1\n");

        Cgroups cgroups = Cgroups.create(mount, List.of("0::/docker/abc"), 42, "a").orElseThrow();

        assertEquals("1", Files.readString(own.resolve("execfarm-42-worker/cgroup.procs")),
                "the worker's processes leave the group that now hands out controllers");
        assertEquals("+memory +pids +cpu", Files.readString(own.resolve("cgroup.subtree_control")));
        assertEquals("+memory +pids +cpu", Files.readString(own.resolve("execfarm-42-a/cgroup.subtree_control")));
        Files.createDirectories(own.resolve("execfarm-42-a/slot-1"));
        Files.writeString(own.resolve("execfarm-42-a/slot-1/memory.swap.max"), "max");

        ProcessCgroup group = cgroups.create("slot-1", 1 << 30, 64, 1, 3600);

        assertEquals(CgroupVersion.V2, group.version());
        assertEquals("100000 100000", Files.readString(group.memory().resolve("cpu.max")), "one CPU");
        Files.writeString(group.memory().resolve("cpu.stat"), "usage_usec 2500\nuser_usec 2000\n");
        Files.writeString(group.memory().resolve("pids.current"), "3\n");
        Files.writeString(group.memory().resolve("cgroup.procs"), "");
        Files.writeString(group.memory().resolve("memory.stat"), "anon 0\nfile 0\nshmem 4096\n");
        try (GroupCounters counters = group.openCounters()) {
            assertEquals(2_500_000, counters.cpuNanos().orElseThrow());
            assertEquals(4096, counters.sharedMemoryBytes());
        }
        assertEquals(List.of(own.resolve("execfarm-42-a/slot-1")), group.groups());
        assertEquals("1073741824", Files.readString(group.memory().resolve("memory.max")));
        assertEquals("0", Files.readString(group.memory().resolve("memory.swap.max")), "no swap, so the limit kills");
        assertEquals("64", Files.readString(group.pids().resolve("pids.max")));
        assertEquals(List.of(group.memory().resolve("cgroup.procs").toString(), "--"), group.join().subList(4, 6));
        Files.writeString(group.memory().resolve("memory.events"), "low 0\nhigh 0\nmax 9\noom 1\noom_kill 1\n");
        Files.writeString(group.pids().resolve("pids.events"), "max 3\n");
        assertEquals(1, group.memoryKills());
        assertEquals(3, group.refusedForks());
    }

    @Test
    void cgroupV2WithoutTheControllersDelegatedGivesNoGroups() throws IOException {
        Files.writeString(mount.resolve("cgroup.controllers"), "cpu memory pids\n");
        group(mount.resolve("user.slice/worker"), "cpu memory\n");

        assertEquals(Optional.empty(), Cgroups.create(mount, List.of("0::/user.slice/worker"), 42, "a").map(c -> "groups"));
        assertFalse(Files.exists(mount.resolve("user.slice/worker/execfarm-42-a")));
    }

    @Test
    void aHybridMountWithoutTheV1ControllersGivesNoGroups() throws IOException {
        group(mount.resolve("unified/worker"), "");

        assertTrue(Cgroups.create(mount, List.of("1:name=systemd:/worker", "0::/worker"), 42, "a").isEmpty(),
                "the v2 tree of a hybrid mount is not at the mount's root and has no controllers");
    }

    private static Path group(Path dir, String controllers) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("cgroup.procs"), "");
        Files.writeString(dir.resolve("cgroup.controllers"), controllers);
        return dir;
    }
}
