package io.execfarm.worker.runtime;

import io.execfarm.worker.sandbox.GroupCounters;
import java.io.Closeable;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Whether a process is at rest, judged from what the kernel counts in its control group and shows
 * of its driver's threads, never from what the process says: user code owns it and can make its
 * driver say anything.
 *
 * <p>At rest means: no more tasks than it had at rest before its first request (a thread or a
 * process a request started is one more), no thread of its driver running, its first thread
 * waiting for the next command where it waited then (same call, same descriptor, same stack
 * pointer), no shared memory held beyond what it held then, no more POSIX timers than then, and no
 * CPU used while idle. The baseline is taken once, after the warm-up, when nothing of any request
 * exists yet. Without a control group only the rest point and the timers are judged.
 */
final class RestCheck implements Closeable {

    /**
     * When a thread found runnable after a request is looked at again. The first looks come soon: a
     * driver finishing its own work is usually done within a fraction of a millisecond, and the
     * process waits for this.
     */
    private static final List<Duration> CONFIRM = List.of(Duration.ofNanos(200_000), Duration.ofMillis(1),
            Duration.ofMillis(5), Duration.ofMillis(25), Duration.ofMillis(100), Duration.ofMillis(300));
    /**
     * The share of the confirming looks' time a process still runnable at all of them must have
     * spent on a CPU to be called running. A runnable thread may be waiting for a CPU instead: on a
     * farm whose cores were all taken (ten clients sending Julia requests), innocent drivers stayed
     * runnable past every look and were retired by the dozen, until no process was left to serve.
     * A loop left behind takes its whole share of a core, a quarter even on a crowded machine.
     */
    private static final double RUNNING_CPU_SHARE = 0.2;
    /**
     * CPU an idle process may use however briefly it was idle: what its driver's own threads spend
     * settling (Julia's runtime, a collection ending; 4 ms seen once in a conformance run), and the
     * kernel's count of a running task lagging by up to a tick.
     */
    private static final long IDLE_CPU_NANOS = Duration.ofMillis(10).toNanos();
    /**
     * The share of its idle time an idle process may use on top of that. A loop left behind takes
     * all of it (half on a busy machine): one left running since the request is caught as the
     * process settles; this catches one that starts later.
     */
    private static final double IDLE_CPU_SHARE = 0.05;
    /** Shared memory a rested process may hold above its baseline: page rounding, a driver's buffers. */
    private static final long HELD_SLACK_BYTES = 1 << 20;
    /** How long the baseline looks for the driver's first thread reading its next command, after the warm-up's done. */
    private static final Duration REST_POINT_SEARCH = Duration.ofSeconds(2);

    /** The process's control group; without one only the rest point is judged. */
    private final Optional<GroupCounters> group;
    private final long lifetimeCpuNanos;
    private final ThreadStates driverThreads;
    /** Its POSIX timers; empty where the kernel does not list them. */
    private final Optional<ProcessTimers> timers;
    /** How many it had at rest; the largest int where that could not be read, so that no count is more. */
    private int restingTimers = Integer.MAX_VALUE;
    private long restingTasks = Long.MAX_VALUE;
    private long restingSharedBytes = Long.MAX_VALUE;
    /** Where the driver's first thread waits for a command at rest; empty where the worker cannot see it. */
    private Optional<RestPoint> restPoint = Optional.empty();
    /** When the process last came to rest, and its CPU time then; -1 while it serves a request. */
    private volatile long idleSinceNanos = -1;
    private volatile long idleCpuNanos = -1;

    RestCheck(Optional<GroupCounters> group, long lifetimeCpuSeconds, long driverPid) {
        this.group = group;
        this.lifetimeCpuNanos = TimeUnit.SECONDS.toNanos(lifetimeCpuSeconds);
        this.driverThreads = new ThreadStates(driverPid);
        this.timers = ProcessTimers.open(driverPid);
    }

    /** Takes the baseline: the process is warm and no request ran on it but the warm-up, all of whose traces are gone. */
    void baseline() {
        group.ifPresent(counters -> {
            restingTasks = counters.tasks();
            restingSharedBytes = counters.sharedMemoryBytes();
        });
        restPoint = findRestPoint();
        timers.map(ProcessTimers::count).filter(count -> count >= 0).ifPresent(count -> restingTimers = count);
        markIdle();
    }

    private Optional<RestPoint> findRestPoint() {
        if (!BlockedCall.readKnown() || !driverThreads.callsVisible()) {
            return Optional.empty();
        }
        long deadline = System.nanoTime() + REST_POINT_SEARCH.toNanos();
        do {
            Optional<BlockedCall> call = driverThreads.firstThreadCall().filter(BlockedCall::isRead);
            if (call.isPresent()) {
                return Optional.of(new RestPoint(call.get().readDescriptor(), call.get().stackPointer()));
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
        } while (System.nanoTime() < deadline && !Thread.currentThread().isInterrupted());
        return Optional.empty();
    }

    /** The process is about to serve a request: CPU it uses now is that request's. */
    void markBusy() {
        idleSinceNanos = -1;
    }

    /**
     * Whether the process came back to rest after a request whose stragglers were killed and whose
     * scratch was emptied; marks it idle if so.
     */
    Optional<Unrest> afterRequest() {
        Optional<Unrest> unrest = group.flatMap(this::groupAfterRequest);
        if (unrest.isEmpty() && awayFromRest()) {
            unrest = Optional.of(Unrest.AWAY_FROM_REST);
        }
        if (unrest.isEmpty() && timers.map(ProcessTimers::count).orElse(-1) > restingTimers) {
            unrest = Optional.of(Unrest.TIMER_LEFT);
        }
        if (unrest.isEmpty()) {
            markIdle();
        }
        return unrest;
    }

    private Optional<Unrest> groupAfterRequest(GroupCounters counters) {
        Optional<Unrest> unrest = tasksLeft(counters);
        if (unrest.isEmpty() && stillRunning(counters)) {
            unrest = Optional.of(Unrest.RUNNING);
        }
        if (unrest.isEmpty() && counters.sharedMemoryBytes() > restingSharedBytes + HELD_SLACK_BYTES) {
            unrest = Optional.of(Unrest.MEMORY_HELD);
        }
        if (unrest.isEmpty() && counters.cpuNanos().orElse(0) > lifetimeCpuNanos) {
            unrest = Optional.of(Unrest.CPU_SPENT);
        }
        return unrest;
    }

    /** Whether an idle process did anything since it came to rest; a few small reads, for the pool's hand-out. */
    Optional<Unrest> whileIdle() {
        if (group.isEmpty()) {
            return Optional.empty();
        }
        Optional<Unrest> unrest = tasksLeft(group.get());
        if (unrest.isPresent()) {
            return unrest;
        }
        long since = idleSinceNanos;
        long cpuThen = idleCpuNanos;
        OptionalLong cpuNow = group.get().cpuNanos();
        if (since < 0 || cpuThen < 0 || cpuNow.isEmpty()) {
            return Optional.empty();
        }
        long allowed = IDLE_CPU_NANOS + (long) ((System.nanoTime() - since) * IDLE_CPU_SHARE);
        return cpuNow.getAsLong() - cpuThen > allowed ? Optional.of(Unrest.IDLE_CPU) : Optional.empty();
    }

    private void markIdle() {
        idleCpuNanos = group.map(counters -> counters.cpuNanos().orElse(-1)).orElse(-1L);
        idleSinceNanos = System.nanoTime();
    }

    private Optional<Unrest> tasksLeft(GroupCounters counters) {
        long tasks = counters.tasks();
        return tasks < 0 || tasks > restingTasks ? Optional.of(Unrest.TASKS_LEFT) : Optional.empty();
    }

    /**
     * A thread of the driver runnable now and at each of the {@link #CONFIRM} marks after, and the
     * process on a CPU for {@link #RUNNING_CPU_SHARE} of that time. A driver finishing its own work
     * after its done frame is runnable for well under a millisecond of CPU, though on a busy machine
     * it may wait for a CPU a while first; a loop a request left behind is runnable all the time and
     * runs whenever it can. (The kernel brings a running task's CPU count up to date only at a tick,
     * every few milliseconds, so the CPU decides only after the last mark.) Without a CPU count,
     * runnable at every mark decides alone.
     */
    private boolean stillRunning(GroupCounters counters) {
        if (!driverThreads.anyRunnable()) {
            return false;
        }
        long started = System.nanoTime();
        OptionalLong cpuBefore = counters.cpuNanos();
        for (Duration wait : CONFIRM) {
            LockSupport.parkNanos(wait.toNanos());
            if (Thread.currentThread().isInterrupted()) {
                return true;
            }
            if (!driverThreads.anyRunnable()) {
                return false;
            }
        }
        OptionalLong cpuAfter = counters.cpuNanos();
        if (cpuBefore.isEmpty() || cpuAfter.isEmpty()) {
            return true;
        }
        return cpuAfter.getAsLong() - cpuBefore.getAsLong() >= (System.nanoTime() - started) * RUNNING_CPU_SHARE;
    }

    /**
     * Whether the driver's first thread, seen at a first look and at each of the {@link #CONFIRM}
     * marks after, was never blocked at its rest point but was blocked somewhere else. A driver that
     * just sent its done may take a moment to get back to its read; code that sent a done of its
     * own and then reads the next command in the driver's place waits in the same call deeper in
     * its stack, or on another task's stack. A thread that is running shows no call: that is no
     * evidence either way (one waiting for a CPU all along is innocent; {@link #stillRunning} judges
     * one that uses it).
     */
    private boolean awayFromRest() {
        if (restPoint.isEmpty()) {
            return false;
        }
        boolean seenElsewhere = false;
        for (int look = 0; look <= CONFIRM.size(); look++) {
            if (look > 0) {
                LockSupport.parkNanos(CONFIRM.get(look - 1).toNanos());
                if (Thread.currentThread().isInterrupted()) {
                    return true;
                }
            }
            Optional<BlockedCall> call = driverThreads.firstThreadCall();
            if (call.isPresent() && restPoint.get().is(call.get())) {
                return false;
            }
            seenElsewhere |= call.isPresent();
        }
        return seenElsewhere;
    }

    /** Where a driver waits for its next command: a read of its command descriptor, at one depth of its stack. */
    private record RestPoint(long descriptor, long stackPointer) {

        boolean is(BlockedCall call) {
            return call.isRead() && call.readDescriptor() == descriptor && call.stackPointer() == stackPointer;
        }
    }

    @Override
    public void close() {
        driverThreads.close();
        timers.ifPresent(ProcessTimers::close);
        group.ifPresent(GroupCounters::close);
    }
}
