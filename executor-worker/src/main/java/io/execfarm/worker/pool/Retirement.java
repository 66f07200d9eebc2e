package io.execfarm.worker.pool;

import io.execfarm.worker.runtime.Unrest;
import java.util.Locale;

/** Why a pool retired a process, as the {@code reason} tag of the retirements metric names it. */
public enum Retirement {
    /** The request or its session ended it: a crash, a timeout, a cancel, a session closed or evicted. */
    DISCARDED,
    /** The reuse policy is {@code never}. */
    NOT_REUSED,
    /** It served its maximum of requests. */
    WORN_OUT,
    /** Its resident memory grew past the limit. */
    GREW,
    /** The coldest idle process, or one held unused, made room for a waiting request. */
    EVICTED,
    EXITED,
    WROTE_WHILE_IDLE,
    TASKS_LEFT,
    RUNNING,
    IDLE_CPU,
    MEMORY_HELD,
    SCRATCH;

    /** The retirement for a process found not at rest: see {@link Unrest} for each reason. */
    public static Retirement of(Unrest unrest) {
        return valueOf(unrest.name());
    }

    /** Whether the process was found not at rest, rather than retired by the pool's own rules or a failed request. */
    public boolean notAtRest() {
        return ordinal() >= EXITED.ordinal() && this != EXITED;
    }

    public String tag() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
