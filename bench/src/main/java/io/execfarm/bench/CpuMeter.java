package io.execfarm.bench;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * CPU time the machine spent, by process, between two readings of /proc: the client (this JVM),
 * each of the farm's processes with its descendants, the runtime processes (every descendant of a
 * worker, and those a worker has already reaped, through its children's times), and the rest of
 * the machine. Processes that ended before the second reading count under the process that reaped
 * them, so little goes missing; what does is in "rest".
 */
final class CpuMeter {

    static final String CLIENT = "client";
    static final String RUNTIMES = "runtime processes";
    static final String REST = "rest of the machine";
    /** Not a process but a part of two: the dispatcher's and the workers' JIT compiler threads. */
    static final String JIT = "of which JIT in dispatcher and workers";
    /** Linux's USER_HZ: the unit of every time in /proc/[pid]/stat and /proc/stat, on every architecture. */
    private static final double MS_PER_TICK = 10.0;

    /**
     * CPU ticks at one instant: each process's own, with the role it counts under; each role's
     * reaped children's; and the machine's busy ticks over all cores.
     */
    record Reading(Map<Long, Owned> processes, Map<String, Long> reaped, long machineBusy, long jitTicks) {
    }

    /** One process's ticks and the role they count under. */
    record Owned(String role, long ticks) {
    }

    /** Per role, milliseconds of CPU per request over a run; in order: client, the farm's processes, runtimes, rest, total. */
    record Usage(Map<String, Double> msPerRequest, double seconds) {

        double total() {
            return msPerRequest.getOrDefault("total", 0.0);
        }
    }

    private record Stat(long ppid, long ticks, long childTicks) {
    }

    private CpuMeter() {
    }

    /**
     * Reads every process's times; {@code processes} names the farm's roots (broker, redis,
     * dispatcher, worker-N, bare baseline, ...). A root whose name starts with "worker" has its
     * descendants counted as runtime processes, not as itself.
     */
    static Reading read(Map<String, Long> processes) throws IOException {
        Map<Long, Stat> stats = new HashMap<>();
        try (DirectoryStream<Path> proc = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
            for (Path dir : proc) {
                Stat stat = stat(dir.resolve("stat"));
                if (stat != null) {
                    stats.put(Long.parseLong(dir.getFileName().toString()), stat);
                }
            }
        }
        Map<Long, Owned> owned = new HashMap<>();
        Map<String, Long> reaped = new LinkedHashMap<>();
        long self = ProcessHandle.current().pid();
        owned.put(self, new Owned(CLIENT, stats.getOrDefault(self, new Stat(0, 0, 0)).ticks()));
        reaped.put(CLIENT, 0L);
        Set<Long> roots = Set.copyOf(processes.values());
        long runtimesReaped = 0;
        for (Map.Entry<String, Long> root : processes.entrySet()) {
            boolean worker = root.getKey().startsWith("worker");
            String below = worker ? RUNTIMES : root.getKey();
            Stat stat = stats.get(root.getValue());
            reaped.put(root.getKey(), worker || stat == null ? 0L : stat.childTicks());
            if (stat == null) {
                continue;
            }
            runtimesReaped += worker ? stat.childTicks() : 0;
            owned.put(root.getValue(), new Owned(root.getKey(), stat.ticks()));
            for (Map.Entry<Long, Stat> other : stats.entrySet()) {
                if (descends(other.getKey(), root.getValue(), stats, roots)) {
                    owned.put(other.getKey(), new Owned(below, other.getValue().ticks()));
                }
            }
        }
        reaped.put(RUNTIMES, runtimesReaped);
        long jit = processes.entrySet().stream()
                .filter(root -> root.getKey().equals("dispatcher") || root.getKey().startsWith("worker"))
                .mapToLong(root -> compilerTicks(root.getValue())).sum();
        return new Reading(owned, reaped, machineBusy(), jit);
    }

    /**
     * What each role spent between two readings, per request of a run of {@code requests} over
     * {@code seconds}: each process's growth (all of it for a process new since the first
     * reading), and what its reaped children added. A process that ended between the readings
     * unreaped by anything measured counts in "rest".
     */
    static Usage between(Reading before, Reading after, int requests, double seconds) {
        Map<String, Long> spent = new LinkedHashMap<>();
        after.reaped().forEach((role, ticks) -> spent.put(role, Math.max(0, ticks - before.reaped().getOrDefault(role, 0L))));
        after.processes().forEach((pid, now) -> {
            Owned then = before.processes().get(pid);
            long grown = then != null && then.role().equals(now.role()) ? now.ticks() - then.ticks() : now.ticks();
            spent.merge(now.role(), Math.max(0, grown), Long::sum);
        });
        Map<String, Double> perRequest = new LinkedHashMap<>();
        long accounted = 0;
        for (Map.Entry<String, Long> role : spent.entrySet()) {
            accounted += role.getValue();
            perRequest.put(role.getKey(), role.getValue() * MS_PER_TICK / requests);
        }
        long busy = after.machineBusy() - before.machineBusy();
        perRequest.put(REST, Math.max(0, busy - accounted) * MS_PER_TICK / requests);
        perRequest.put("total", busy * MS_PER_TICK / requests);
        // HotSpot may end an idle compiler thread, taking its ticks along: then this reads low, never high.
        perRequest.put(JIT, Math.max(0, after.jitTicks() - before.jitTicks()) * MS_PER_TICK / requests);
        return new Usage(perRequest, seconds);
    }

    /** Whether {@code pid} is below {@code root}, without passing through another root (the bare baseline under the client). */
    private static boolean descends(long pid, long root, Map<Long, Stat> stats, Set<Long> roots) {
        long current = pid;
        for (int depth = 0; depth < 64; depth++) {
            Stat stat = stats.get(current);
            if (stat == null || stat.ppid() <= 1) {
                return false;
            }
            if (stat.ppid() == root) {
                return true;
            }
            if (roots.contains(stat.ppid())) {
                return false;
            }
            current = stat.ppid();
        }
        return false;
    }

    /** CPU ticks of a JVM's C1 and C2 compiler threads (HotSpot names them so; /proc cuts names at 15 characters). */
    private static long compilerTicks(long pid) {
        long ticks = 0;
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc", Long.toString(pid), "task"))) {
            for (Path task : tasks) {
                Stat stat = compiler(task) ? stat(task.resolve("stat")) : null;
                ticks += stat == null ? 0 : stat.ticks();
            }
        } catch (IOException | RuntimeException gone) {
            // The JVM ended while its threads were read: what was read so far.
        }
        return ticks;
    }

    private static boolean compiler(Path task) {
        try {
            String name = Files.readString(task.resolve("comm"));
            return name.startsWith("C1 CompilerThre") || name.startsWith("C2 CompilerThre");
        } catch (IOException gone) {
            return false;
        }
    }

    /** utime+stime and cutime+cstime, from the fields after the command name (which may hold spaces). */
    private static Stat stat(Path file) {
        try {
            String text = Files.readString(file);
            String[] fields = text.substring(text.lastIndexOf(')') + 2).split(" ");
            // fields[0] is the state (stat's 3rd field): ppid is the 4th, utime..cstime the 14th..17th.
            return new Stat(Long.parseLong(fields[1]), Long.parseLong(fields[11]) + Long.parseLong(fields[12]),
                    Long.parseLong(fields[13]) + Long.parseLong(fields[14]));
        } catch (IOException | RuntimeException gone) {
            return null;
        }
    }

    /** user + nice + system + irq + softirq + steal over all cores, from /proc/stat's first line. */
    private static long machineBusy() throws IOException {
        String[] cpu = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
        long busy = 0;
        for (int field : List.of(1, 2, 3, 6, 7, 8)) {
            busy += Long.parseLong(cpu[field]);
        }
        return busy;
    }
}
