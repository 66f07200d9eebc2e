package io.execfarm.worker.pool;

import io.execfarm.worker.runtime.RuntimeStartException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;

/** Processes that are plain objects, with controllable starts, deaths and memory. */
final class FakeProcessSource implements ProcessSource<FakeProcessSource.Proc> {

    static final class Proc {
        final int id;
        final int slot;
        volatile boolean alive = true;
        volatile long resident = 100;
        /** What an idle check finds wrong with it, when anything. */
        volatile Retirement unfit;

        Proc(int id, int slot) {
            this.id = id;
            this.slot = slot;
        }

        @Override
        public String toString() {
            return "proc" + id + "@slot" + slot;
        }
    }

    private final AtomicInteger ids = new AtomicInteger();
    private final Set<Integer> liveSlots = new HashSet<>();
    private final List<Proc> disposed = new ArrayList<>();
    private int maxAlive;
    private int alive;
    private boolean slotClash;
    /** Starts wait for a permit; unlimited unless a test takes control. */
    final Semaphore startPermits = new Semaphore(Integer.MAX_VALUE);
    volatile boolean failStarts;
    /** When each refused start was refused, in System.nanoTime(). */
    final List<Long> refusedAt = java.util.Collections.synchronizedList(new ArrayList<>());

    @Override
    public Proc start(int slot) throws RuntimeStartException {
        synchronized (this) {
            slotClash |= !liveSlots.add(slot);
            alive++;
            maxAlive = Math.max(maxAlive, alive);
        }
        try {
            startPermits.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (failStarts) {
            refusedAt.add(System.nanoTime());
            release(slot);
            throw new RuntimeStartException("fake runtime refuses to start");
        }
        return new Proc(ids.incrementAndGet(), slot);
    }

    @Override
    public void dispose(Proc process) {
        process.alive = false;
        synchronized (this) {
            disposed.add(process);
        }
        release(process.slot);
    }

    private synchronized void release(int slot) {
        liveSlots.remove(slot);
        alive--;
    }

    @Override
    public Optional<Retirement> unfitWhileIdle(Proc process) {
        return process.alive ? Optional.ofNullable(process.unfit) : Optional.of(Retirement.EXITED);
    }

    @Override
    public long residentBytes(Proc process) {
        return process.resident;
    }

    synchronized List<Proc> disposed() {
        return List.copyOf(disposed);
    }

    synchronized int maxAlive() {
        return maxAlive;
    }

    synchronized boolean slotClash() {
        return slotClash;
    }
}
