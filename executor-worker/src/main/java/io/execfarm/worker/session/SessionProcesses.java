package io.execfarm.worker.session;

import io.execfarm.contracts.InputFile;
import io.execfarm.contracts.Result;
import io.execfarm.worker.pool.CancelSignal;
import io.execfarm.worker.pool.Lease;
import io.execfarm.worker.pool.PoolTimeoutException;
import io.execfarm.worker.pool.ProcessPool;
import io.execfarm.worker.pool.TimedOutcome;
import io.execfarm.worker.runtime.ExecutionOutcome;
import io.execfarm.worker.runtime.ExecutionSpec;
import io.execfarm.worker.runtime.FileLimits;
import io.execfarm.worker.runtime.OutputSink;
import io.execfarm.worker.runtime.RuntimeProcess;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jboss.logging.Logger;

/**
 * The processes of one runtime's pool that hold sessions: the fast path.
 *
 * <p>A session's requests run on a process pinned to it, taken from the pool and never given back:
 * no other session or tenant ever runs on it, and it is retired when the session ends, when it is
 * evicted to make room, or when a request kills it. The process knows how much of the session's
 * history it has applied; before a request runs, whatever is missing (all of it on a fresh
 * process, the tail when another worker ran the session meanwhile) is replayed with its output
 * discarded. That replay is the durable path: it rebuilds a session on any process of any worker.
 * The session's files are written into the process first, and again whenever they changed since
 * (their version, counted in the session's record), so the replay finds them as the requests did.
 *
 * <p>At most {@code maxPinned} processes stay pinned, least recently used evicted first, so the
 * pool keeps processes for requests without a session; and a request that would wait for a process
 * takes the one of the session idle the longest ({@link #reclaimLongestIdle}). A session runs one
 * request at a time here.
 */
public final class SessionProcesses {

    /** Reads a session's history. */
    public interface History {

        /** The code of entries {@code from} (inclusive) to {@code to} (exclusive). */
        List<String> snippets(String session, long from, long to);

        /** How many entries it holds now. */
        long length(String session);

        /** The session's files, by path. */
        Map<String, byte[]> files(String session);
    }

    /** A request's run in its session: the outcome, and the process to settle afterwards with {@link #finish}. */
    public record Run(TimedOutcome timed, Pin pin, long replayed) {
    }

    /** A process held for a session; guarded by the lock of its {@link SessionProcesses}. */
    public static final class Pin {
        private final String session;
        private final String tenant;
        private Lease<RuntimeProcess> lease;
        private long applied;
        /** The version of the session's files the process has written; -1 for none yet. */
        private long filesWritten = -1;
        private boolean busy = true;
        private long idleSince;

        private Pin(String session, String tenant) {
            this.session = session;
            this.tenant = tenant;
        }
    }

    private static final Logger LOG = Logger.getLogger(SessionProcesses.class);

    private final ProcessPool<RuntimeProcess> pool;
    private final int maxPinned;
    private final Duration acquireTimeout;
    private final Duration replayTimeout;
    private final History history;
    private final Object lock = new Object();
    /** In access order: the first idle pin is the least recently used. */
    private final Map<String, Pin> pins = new LinkedHashMap<>(16, 0.75f, true);
    private boolean closed;

    public SessionProcesses(ProcessPool<RuntimeProcess> pool, int maxPinned, Duration acquireTimeout,
            Duration replayTimeout, History history) {
        this.pool = pool;
        this.maxPinned = maxPinned;
        this.acquireTimeout = acquireTimeout;
        this.replayTimeout = replayTimeout;
        this.history = history;
    }

    /**
     * Runs a request in {@code session}, whose history now holds {@code snippets} entries and whose
     * files are at version {@code filesVersion}. Blocks while the session runs another request on
     * this worker. The time spent getting a process ready for the session (acquiring it, writing
     * its files and replaying history) counts as acquire time.
     */
    public Run execute(String session, String tenant, long snippets, long filesVersion, ExecutionSpec spec,
            OutputSink sink, CancelSignal cancel) throws InterruptedException {
        long start = System.nanoTime();
        Pin pin = take(session, tenant);
        try {
            if (pin.lease != null && pin.applied > snippets) {
                // Another request of the session finished here while this one waited for it.
                snippets = history.length(session);
            }
            if (pin.lease == null || pin.applied > snippets || !pin.lease.process().isAlive()) {
                // A history shorter than what the process applied is not the history it applied.
                replace(pin);
            }
            long replayed = snippets - pin.applied;
            ExecutionOutcome failed = writeFiles(pin, filesVersion, spec);
            if (failed == null) {
                failed = catchUp(pin, snippets, spec);
            }
            if (failed != null) {
                return new Run(new TimedOutcome(failed, System.nanoTime() - start, 0), pin, replayed);
            }
            long ready = System.nanoTime();
            RuntimeProcess process = pin.lease.process();
            if (!cancel.bind(() -> process.cancel(spec.id()))) {
                return new Run(new TimedOutcome(ExecutionOutcome.cancelledBeforeStart(), ready - start, 0), pin, replayed);
            }
            ExecutionOutcome outcome;
            try {
                outcome = process.execute(spec, sink);
            } finally {
                cancel.unbind();
            }
            return new Run(new TimedOutcome(outcome, ready - start, System.nanoTime() - ready), pin, replayed);
        } catch (PoolTimeoutException e) {
            return new Run(new TimedOutcome(new ExecutionOutcome(Result.Status.REJECTED, null,
                    new Result.ErrorInfo("NoCapacity", e.getMessage(), null), false, 0), System.nanoTime() - start, 0),
                    pin, 0);
        } catch (RuntimeException | InterruptedException e) {
            finish(new Run(null, pin, 0), -1);
            throw e;
        }
    }

    /**
     * Settles a run: its process stays pinned, now having applied {@code snippets} entries of the
     * history, if it survived and the session goes on ({@code snippets >= 0}); otherwise it is retired.
     */
    public void finish(Run run, long snippets) {
        Pin pin = run.pin();
        boolean keep = snippets >= 0 && pin.lease != null && run.timed() != null
                && run.timed().outcome().status() != Result.Status.REJECTED
                && run.timed().outcome().processSurvived()
                && pin.lease.process().isAlive()
                && withinMemory(pin.lease.process());
        List<Lease<RuntimeProcess>> retire = new ArrayList<>();
        synchronized (lock) {
            pin.busy = false;
            if (keep && !closed) {
                pin.applied = snippets;
                pin.idleSince = System.nanoTime();
            } else {
                pins.remove(pin.session, pin);
                if (pin.lease != null) {
                    retire.add(pin.lease);
                }
            }
            evictOverCapacity(retire);
            lock.notifyAll();
        }
        retire.forEach(lease -> pool.release(lease, false));
    }

    /** Sessions pinned here and idle, with how long they have been idle. */
    public Map<String, Duration> idle() {
        Map<String, Duration> idle = new LinkedHashMap<>();
        long now = System.nanoTime();
        synchronized (lock) {
            pins.values().stream().filter(pin -> !pin.busy)
                    .forEach(pin -> idle.put(pin.session, Duration.ofNanos(now - pin.idleSince)));
        }
        return idle;
    }

    /** Retires the processes of these sessions unless they are running a request. */
    public void release(Set<String> sessions) {
        List<Lease<RuntimeProcess>> retire = new ArrayList<>();
        synchronized (lock) {
            for (String session : sessions) {
                Pin pin = pins.get(session);
                if (pin != null && !pin.busy) {
                    pins.remove(session);
                    retire.add(pin.lease);
                }
            }
        }
        retire.forEach(lease -> pool.release(lease, false));
    }

    /**
     * Gives up the process of the session idle the longest, for a request that would otherwise
     * wait for one: idle sessions never starve requests without a session. The session lives on
     * and is rebuilt from its history when it is next used. Called by the pool, holding its lock.
     */
    public Lease<RuntimeProcess> reclaimLongestIdle() {
        synchronized (lock) {
            Pin longestIdle = null;
            for (Pin pin : pins.values()) {
                if (!pin.busy && pin.lease != null && (longestIdle == null || pin.idleSince < longestIdle.idleSince)) {
                    longestIdle = pin;
                }
            }
            if (longestIdle == null) {
                return null;
            }
            pins.remove(longestIdle.session);
            return longestIdle.lease;
        }
    }

    /** How many processes hold sessions. */
    public int pinned() {
        synchronized (lock) {
            return pins.size();
        }
    }

    /**
     * Retires the idle pinned processes, and each busy one when its request finishes; the sessions
     * live on in Redis.
     */
    public void close() {
        List<Lease<RuntimeProcess>> retire = new ArrayList<>();
        synchronized (lock) {
            closed = true;
            for (Iterator<Pin> it = pins.values().iterator(); it.hasNext(); ) {
                Pin pin = it.next();
                if (!pin.busy) {
                    it.remove();
                    retire.add(pin.lease);
                }
            }
        }
        retire.forEach(lease -> pool.release(lease, false));
    }

    private Pin take(String session, String tenant) throws InterruptedException {
        List<Lease<RuntimeProcess>> retire = new ArrayList<>();
        Pin pin;
        synchronized (lock) {
            while ((pin = pins.get(session)) != null && pin.busy) {
                lock.wait();
            }
            if (pin != null && !pin.tenant.equals(tenant)) {
                // The store admits only the owner; a process that ran someone else's code is never reused.
                pins.remove(session);
                retire.add(pin.lease);
                pin = null;
            }
            if (pin != null) {
                pin.busy = true;
            } else {
                pin = new Pin(session, tenant);
                pins.put(session, pin);
                // Make room first: the pool may have no process left to give while idle pins hold them.
                evictOverCapacity(retire);
            }
        }
        retire.forEach(lease -> pool.release(lease, false));
        return pin;
    }

    /** Gives the pin a fresh process from the pool, retiring the one it had. */
    private void replace(Pin pin) throws PoolTimeoutException, InterruptedException {
        if (pin.lease != null) {
            pool.release(pin.lease, false);
            pin.lease = null;
        }
        pin.applied = 0;
        pin.filesWritten = -1;
        pin.lease = pool.acquire(pin.tenant, acquireTimeout);
    }

    /**
     * Writes the session's files into the process unless it has this version already: a run of no
     * code that brings them, through the driver like any request's files. The failure, or null.
     */
    private ExecutionOutcome writeFiles(Pin pin, long version, ExecutionSpec request) throws InterruptedException {
        if (pin.filesWritten == version) {
            return null;
        }
        Map<String, byte[]> files = version == 0 ? Map.of() : history.files(pin.session);
        if (!files.isEmpty()) {
            ExecutionSpec write = new ExecutionSpec(request.id() + "-files", "", request.session(), 0, replayTimeout,
                    files.entrySet().stream().map(file -> InputFile.of(file.getKey(), file.getValue())).toList(),
                    List.of(), FileLimits.DEFAULT);
            ExecutionOutcome outcome = pin.lease.process().execute(write, OutputSink.DISCARD);
            if (outcome.status() != Result.Status.OK) {
                return rebuildFailed(request, "its files could not be written: "
                        + (outcome.error() != null ? outcome.error().message() : outcome.status().name().toLowerCase()));
            }
        }
        pin.filesWritten = version;
        return null;
    }

    /** Replays the history the process has not applied; the failure that stopped it, or null. */
    private ExecutionOutcome catchUp(Pin pin, long snippets, ExecutionSpec request) throws InterruptedException {
        if (pin.applied >= snippets) {
            return null;
        }
        List<String> missing = history.snippets(pin.session, pin.applied, snippets);
        if (missing.size() != snippets - pin.applied) {
            return rebuildFailed(request, "its history in Redis holds " + (pin.applied + missing.size())
                    + " snippets where " + snippets + " were expected");
        }
        RuntimeProcess process = pin.lease.process();
        for (String code : missing) {
            long number = pin.applied + 1;
            ExecutionSpec replay = new ExecutionSpec(request.id() + "-replay-" + number, code, request.session(), 0,
                    replayTimeout);
            ExecutionOutcome outcome = process.execute(replay, OutputSink.DISCARD);
            if (!outcome.processSurvived()) {
                return rebuildFailed(request, "replaying snippet " + number + " of " + snippets + " ended with "
                        + outcome.status().name().toLowerCase() + ": "
                        + (outcome.error() != null ? outcome.error().message() : "no detail"));
            }
            pin.applied = number;
        }
        LOG.debugf("session %s: %d snippets replayed on %s", pin.session, missing.size(), process);
        return null;
    }

    private static ExecutionOutcome rebuildFailed(ExecutionSpec request, String why) {
        return new ExecutionOutcome(Result.Status.REJECTED, null, new Result.ErrorInfo("SessionRebuildFailed",
                "session " + request.session() + " could not be rebuilt on a new process, so this request did not run: "
                        + why, null), false, 0);
    }

    private boolean withinMemory(RuntimeProcess process) {
        long limit = pool.settings().maxResidentBytes();
        return limit == 0 || process.residentBytes() <= limit;
    }

    /** Evicts least recently used idle pins while more than {@code maxPinned} exist. Call holding the lock. */
    private void evictOverCapacity(List<Lease<RuntimeProcess>> retire) {
        Iterator<Pin> oldestFirst = pins.values().iterator();
        int excess = pins.size() - maxPinned;
        while (excess > 0 && oldestFirst.hasNext()) {
            Pin pin = oldestFirst.next();
            if (!pin.busy) {
                oldestFirst.remove();
                retire.add(pin.lease);
                excess--;
            }
        }
    }
}
