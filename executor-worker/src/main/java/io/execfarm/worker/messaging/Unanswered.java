package io.execfarm.worker.messaging;

import io.execfarm.contracts.Result;

/**
 * A request the worker gave up on (its bookkeeping in Redis, or its result's publication, failed
 * past every retry): it goes to the dead-letter topic, and its sender gets {@link #errorResult}
 * when there is one to send.
 */
final class Unanswered extends RuntimeException {

    private final transient Result errorResult;

    Unanswered(String reason, Result errorResult) {
        super(reason, null, false, false);
        this.errorResult = errorResult;
    }

    /** The answer its sender gets, or null. */
    Result errorResult() {
        return errorResult;
    }
}
