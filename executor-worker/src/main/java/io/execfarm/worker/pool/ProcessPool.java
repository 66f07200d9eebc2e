package io.execfarm.worker.pool;

import io.execfarm.worker.runtime.RuntimeStartException;
import io.execfarm.worker.threads.DaemonThreads;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Deque;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.jboss.logging.Logger;

/**
 * Warm processes of one runtime.
 *
 * <p>An acquire takes a compatible idle process at once when there is one and never waits for a
 * refill it can avoid; starts and retirements run in the background, starts at most
 * {@code startParallelism} at a time. Each live process holds a slot number below {@code size}
 * from the start of its launch until its disposal has finished, so a slot (and the sandbox uid
 * derived from it) is never shared by two processes.
 *
 * <p>All state is guarded by {@code lock}; process I/O never happens while holding it.
 */
public final class ProcessPool<P> implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(ProcessPool.class);
    private static final long MAX_BACKOFF_NANOS = TimeUnit.SECONDS.toNanos(30);

    private final String name;
    private final PoolSettings settings;
    private final ProcessSource<P> source;
    private final ExecutorService starters;
    private final ExecutorService retirers;

    private final Object lock = new Object();
    /** Most recently used first: warm caches get reused, the coldest process is the one evicted. */
    private final Deque<Lease<P>> idle = new ArrayDeque<>();
    private final BitSet slots = new BitSet();
    private int starting;
    private int busy;
    private int retiring;
    private int waiting;
    private long started;
    private long retired;
    private long startFailures;
    private final Map<Retirement, Long> retirements = new EnumMap<>(Retirement.class);
    private int consecutiveFailures;
    private long nextStartNanos = System.nanoTime();
    private String lastStartError;
    private boolean closed;
    private volatile Supplier<Lease<P>> reclaimer = () -> null;

    public ProcessPool(String name, PoolSettings settings, ProcessSource<P> source) {
        this.name = name;
        this.settings = settings;
        this.source = source;
        this.starters = Executors.newFixedThreadPool(settings.startParallelism(),
                DaemonThreads.named("execfarm-" + name + "-start"));
        this.retirers = Executors.newCachedThreadPool(DaemonThreads.named("execfarm-" + name + "-retire"));
    }

    public String name() {
        return name;
    }

    public PoolSettings settings() {
        return settings;
    }

    /**
     * Where an acquire that would wait with every slot taken gets a process back from: a lease
     * held but unused elsewhere (an idle session's), which is then retired so a fresh process can
     * start in its slot. The reclaimer is called holding this pool's lock, so it must never wait
     * for this pool itself.
     */
    public void reclaimFrom(Supplier<Lease<P>> reclaimer) {
        this.reclaimer = reclaimer;
    }

    /** Pre-starts the minimum of idle processes. */
    public void open() {
        synchronized (lock) {
            refill();
        }
    }

    /**
     * Takes a process that may run {@code tenant}'s code under the reuse policy.
     *
     * @throws PoolTimeoutException when none became available within {@code timeout}
     */
    public Lease<P> acquire(String tenant, Duration timeout) throws PoolTimeoutException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (lock) {
            waiting++;
            try {
                while (true) {
                    if (closed) {
                        throw new PoolTimeoutException("the " + name + " pool is shut down");
                    }
                    Lease<P> lease = takeCompatible(tenant);
                    if (lease != null) {
                        lease.assignTo(tenant);
                        busy++;
                        refill();
                        return lease;
                    }
                    evictForWaiter();
                    reclaimForWaiter();
                    refill();
                    long remaining = deadline - System.nanoTime();
                    if (remaining <= 0) {
                        throw new PoolTimeoutException("no " + name + " process became available within "
                                + timeout.toMillis() + " ms" + (lastStartError != null && consecutiveFailures > 0
                                ? "; starting one fails: " + lastStartError : ""));
                    }
                    TimeUnit.NANOSECONDS.timedWait(lock, remaining);
                }
            } finally {
                waiting--;
            }
        }
    }

    /**
     * Returns a process after a request. {@code reusable} is false when the request or its session
     * ended it ({@link Retirement#DISCARDED}); see {@link #release(Lease, Optional)}.
     */
    public void release(Lease<P> lease, boolean reusable) {
        release(lease, reusable ? Optional.empty() : Optional.of(Retirement.DISCARDED));
    }

    /**
     * Returns a process after a request, retired for {@code unfit} when that is present; it is also
     * retired when the policy is {@code never}, when worn out, gone, or grown too large.
     */
    public void release(Lease<P> lease, Optional<Retirement> unfit) {
        lease.countExecution();
        Optional<Retirement> retirement = unfit
                .or(() -> settings.reuse() == ReusePolicy.NEVER ? Optional.of(Retirement.NOT_REUSED) : Optional.empty())
                .or(() -> lease.executions() >= settings.maxExecutions() ? Optional.of(Retirement.WORN_OUT) : Optional.empty())
                .or(() -> source.unfitWhileIdle(lease.process()))
                .or(() -> settings.maxResidentBytes() > 0 && source.residentBytes(lease.process()) > settings.maxResidentBytes()
                        ? Optional.of(Retirement.GREW) : Optional.empty());
        synchronized (lock) {
            busy--;
            if (!closed) {
                if (retirement.isEmpty()) {
                    idle.addFirst(lease);
                } else {
                    retire(lease, retirement.get());
                }
                refill();
                lock.notifyAll();
                return;
            }
            retiring++;
        }
        // Closed: the retirer threads are gone, so this caller disposes.
        dispose(lease);
    }

    public PoolStats stats() {
        synchronized (lock) {
            return new PoolStats(settings.size(), starting, idle.size(), busy, retiring, waiting, started, retired,
                    startFailures, retirements);
        }
    }

    @Override
    public void close() {
        List<Lease<P>> toDispose;
        synchronized (lock) {
            closed = true;
            toDispose = new ArrayList<>(idle);
            idle.clear();
            retiring += toDispose.size();
            lock.notifyAll();
        }
        starters.shutdownNow();
        toDispose.forEach(lease -> retirers.execute(() -> dispose(lease)));
        retirers.shutdown();
        try {
            starters.awaitTermination(30, TimeUnit.SECONDS);
            retirers.awaitTermination(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * The idle process the reuse policy gives {@code tenant}, or null. One found not fit to serve
     * (gone, or not at rest while idle) is retired and the choice made again.
     */
    private Lease<P> takeCompatible(String tenant) {
        while (true) {
            Lease<P> lease = chooseCompatible(tenant);
            if (lease == null) {
                return null;
            }
            idle.remove(lease);
            Optional<Retirement> unfit = source.unfitWhileIdle(lease.process());
            if (unfit.isEmpty()) {
                return lease;
            }
            retire(lease, unfit.get());
        }
    }

    private Lease<P> chooseCompatible(String tenant) {
        Lease<P> fallback = null;
        for (Lease<P> lease : idle) {
            boolean fresh = lease.tenant() == null;
            boolean same = tenant.equals(lease.tenant());
            switch (settings.reuse()) {
                case ALWAYS -> {
                    if (same) {
                        return lease;
                    }
                    if (fallback == null) {
                        fallback = lease;
                    }
                }
                case TENANT -> {
                    if (same) {
                        return lease;
                    }
                    if (fresh && fallback == null) {
                        fallback = lease;
                    }
                }
                case NEVER -> {
                    if (fresh) {
                        return lease;
                    }
                }
            }
        }
        return fallback;
    }

    /** Every slot is taken and nothing is starting: the coldest idle process makes room for a fresh one. */
    private void evictForWaiter() {
        if (slots.cardinality() >= settings.size() && starting == 0 && !idle.isEmpty()) {
            retire(idle.pollLast(), Retirement.EVICTED);
        }
    }

    /**
     * Every slot is taken, none is idle and fewer processes are on their way than requests wait:
     * a lease held unused elsewhere is retired, so its slot starts a process for a waiter.
     */
    private void reclaimForWaiter() {
        if (slots.cardinality() >= settings.size() && idle.isEmpty() && starting + retiring < waiting) {
            Lease<P> unused = reclaimer.get();
            if (unused != null) {
                LOG.debugf("%s pool: a waiting request takes back a process held unused", name);
                busy--;
                retire(unused, Retirement.EVICTED);
            }
        }
    }

    private void refill() {
        if (closed) {
            return;
        }
        int wanted = Math.max(settings.minIdle() - idle.size() - starting, waiting - starting);
        int free = settings.size() - slots.cardinality();
        for (int i = 0; i < Math.min(wanted, free); i++) {
            int slot = slots.nextClearBit(0);
            slots.set(slot);
            starting++;
            starters.execute(() -> startInto(slot));
        }
    }

    private void startInto(int slot) {
        P process;
        try {
            long wait;
            synchronized (lock) {
                wait = nextStartNanos - System.nanoTime();
            }
            if (wait > 0) {
                TimeUnit.NANOSECONDS.sleep(wait);
            }
            process = source.start(slot);
        } catch (RuntimeStartException | RuntimeException e) {
            synchronized (lock) {
                starting--;
                slots.clear(slot);
                startFailures++;
                consecutiveFailures++;
                lastStartError = e.getMessage();
                long backoff = Math.min(MAX_BACKOFF_NANOS,
                        TimeUnit.MILLISECONDS.toNanos(250) << Math.min(consecutiveFailures - 1, 10));
                nextStartNanos = System.nanoTime() + backoff;
                LOG.errorf("%s pool: a process failed to start (%d in a row; next try in %d ms): %s", name,
                        consecutiveFailures, TimeUnit.NANOSECONDS.toMillis(backoff), e.getMessage());
                refill();
                lock.notifyAll();
            }
            return;
        } catch (InterruptedException e) {
            synchronized (lock) {
                starting--;
                slots.clear(slot);
            }
            Thread.currentThread().interrupt();
            return;
        }
        boolean accepted;
        synchronized (lock) {
            starting--;
            accepted = !closed;
            if (accepted) {
                started++;
                consecutiveFailures = 0;
                idle.addFirst(new Lease<>(process, slot));
            } else {
                slots.clear(slot);
            }
            lock.notifyAll();
        }
        if (!accepted) {
            source.dispose(process);
        }
    }

    private void retire(Lease<P> lease, Retirement reason) {
        retirements.merge(reason, 1L, Long::sum);
        if (reason.notAtRest()) {
            LOG.infof("%s pool: retiring a process not at rest: %s", name, reason.tag());
        }
        retiring++;
        retirers.execute(() -> dispose(lease));
    }

    private void dispose(Lease<P> lease) {
        try {
            source.dispose(lease.process());
        } catch (RuntimeException e) {
            LOG.warnf("%s pool: disposing a process failed: %s", name, e.getMessage());
        }
        synchronized (lock) {
            retiring--;
            retired++;
            slots.clear(lease.slot());
            refill();
            lock.notifyAll();
        }
    }
}
