package io.execfarm.client;

import java.time.Duration;

/**
 * No result came within the execution's queue timeout, its run timeout and the client's grace: the
 * farm or the path to it is down or far behind. The client has asked the farm to cancel it.
 */
public class ExecutionTimeoutException extends RuntimeException {

    private final String requestId;

    ExecutionTimeoutException(String requestId, Duration waited) {
        super("no result for " + requestId + " within " + waited.toMillis() + " ms; a cancel was sent");
        this.requestId = requestId;
    }

    public String requestId() {
        return requestId;
    }
}
