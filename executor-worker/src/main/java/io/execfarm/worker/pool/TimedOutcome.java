package io.execfarm.worker.pool;

import io.execfarm.worker.runtime.ExecutionOutcome;

/** An outcome with where its time went: waiting for a process, then running on it. */
public record TimedOutcome(ExecutionOutcome outcome, long acquireNanos, long execNanos) {
}
