package io.execfarm.worker.pool;

import io.execfarm.worker.runtime.Unrest;
import java.util.Locale;

/** Why a pool retired a process, as the {@code reason} tag of the retirements metric names it. */
public enum Retirement {
    /** The request or its session ended it: a crash, a timeout, a cancel, a session closed or evicted. */
    DISCARDED(false),
    /** The reuse policy is {@code never}. */
    NOT_REUSED(false),
    /** It served its maximum of requests. */
    WORN_OUT(false),
    /** Its resident memory grew past the limit. */
    GREW(false),
    /** The coldest idle process, or one held unused, made room for a waiting request. */
    EVICTED(false),
    EXITED(false),
    CPU_SPENT(false),
    WROTE_WHILE_IDLE(true),
    TASKS_LEFT(true),
    RUNNING(true),
    AWAY_FROM_REST(true),
    IDLE_CPU(true),
    MEMORY_HELD(true),
    TIMER_LEFT(true),
    SCRATCH(true),
    LEFT_WAITING(true);

    private final boolean notAtRest;

    Retirement(boolean notAtRest) {
        this.notAtRest = notAtRest;
    }

    /** The retirement for a process found not fit to serve again: see {@link Unrest} for each reason. */
    public static Retirement of(Unrest unrest) {
        return valueOf(unrest.name());
    }

    /** Whether the process was found not at rest: something a request left ran, or was held, after its result. */
    public boolean notAtRest() {
        return notAtRest;
    }

    public String tag() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
