package io.execfarm.client;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Events the client holds for subscribers that have not asked for them yet, all executions
 * together: the reply consumer stops fetching past the limit and starts again under half of it,
 * so a slow subscriber holds the client's memory to a bound rather than growing it.
 */
final class Backlog {

    private final long limit;
    private final AtomicLong held = new AtomicLong();

    Backlog(long limit) {
        this.limit = limit;
    }

    void add(long events) {
        held.addAndGet(events);
    }

    void taken(long events) {
        held.addAndGet(-events);
    }

    boolean full() {
        return held.get() >= limit;
    }

    boolean drained() {
        return held.get() <= limit / 2;
    }

    long held() {
        return held.get();
    }
}
