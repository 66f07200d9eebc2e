package io.execfarm.worker.intake;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The processes of one runtime, counted once for both delivery modes: a request is taken from
 * Kafka only with a permit, so a worker never holds more requests than its pool can run, and a
 * request it cannot run stays in Kafka for a worker that can.
 *
 * <p>Permits go to waiters ({@link #acquire}) in the order they asked, before any is free for
 * {@link #tryAcquire}: the consumer group's records can run on no other worker than their
 * partition's owner, while a share group's record can go to any. A share consumer holds a permit
 * while it polls for a record it may yet receive, and is told ({@link #onWaiter}) when a waiter
 * wants it, so that it gives the permit up.
 */
public final class AdmissionGate {

    private final int capacity;
    private final Object lock = new Object();
    private final Deque<CompletableFuture<Void>> waiters = new ArrayDeque<>();
    private int free;
    private volatile Runnable onWaiter = () -> {
    };

    public AdmissionGate(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("a gate needs at least one permit, not " + capacity);
        }
        this.capacity = capacity;
        this.free = capacity;
    }

    public int capacity() {
        return capacity;
    }

    public int free() {
        synchronized (lock) {
            return free;
        }
    }

    /**
     * A permit, now or once one is released. A waiter that gives up cancels the stage; one that
     * cannot cancel it (the permit came first) releases the permit.
     */
    public CompletableFuture<Void> acquire() {
        CompletableFuture<Void> permit = new CompletableFuture<>();
        synchronized (lock) {
            if (free > 0 && waiters.isEmpty()) {
                free--;
                permit.complete(null);
                return permit;
            }
            waiters.add(permit);
        }
        onWaiter.run();
        return permit;
    }

    public boolean tryAcquire() {
        synchronized (lock) {
            if (free > 0 && waiters.isEmpty()) {
                free--;
                return true;
            }
            return false;
        }
    }

    /** A permit if one is free, and no waiter wants it, within {@code wait}. */
    public boolean tryAcquire(Duration wait) throws InterruptedException {
        long deadline = System.nanoTime() + wait.toNanos();
        synchronized (lock) {
            while (free == 0 || !waiters.isEmpty()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(lock, left);
            }
            free--;
            return true;
        }
    }

    public boolean hasWaiters() {
        synchronized (lock) {
            return waiters.stream().anyMatch(waiter -> !waiter.isDone());
        }
    }

    /** Hands the permit to the longest waiter still waiting, or frees it. */
    public void release() {
        while (true) {
            CompletableFuture<Void> next;
            synchronized (lock) {
                next = waiters.poll();
                if (next == null) {
                    if (free == capacity) {
                        throw new IllegalStateException("a permit was released that was never acquired");
                    }
                    free++;
                    lock.notifyAll();
                    return;
                }
            }
            // Completed outside the lock: the waiter's continuation runs on this thread.
            if (next.complete(null)) {
                return;
            }
        }
    }

    /** Called, on the thread that asked, whenever an {@link #acquire} has to wait. */
    public void onWaiter(Runnable listener) {
        this.onWaiter = listener;
    }
}
