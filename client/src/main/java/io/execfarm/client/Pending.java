package io.execfarm.client;

import java.util.concurrent.Future;

/**
 * An execution the client waits on: its ordering state (touched by the reply consumer's thread
 * alone), where its events go, when it was sent, and the deadline that gives it up. Whoever removes
 * it from the client's waiting map ends it, once.
 */
final class Pending {

    private final String requestId;
    private final EventOrder order = new EventOrder();
    private final ExecutionSink sink;
    private volatile Future<?> deadline;

    Pending(String requestId, ExecutionSink sink) {
        this.requestId = requestId;
        this.sink = sink;
    }

    String requestId() {
        return requestId;
    }

    EventOrder order() {
        return order;
    }

    ExecutionSink sink() {
        return sink;
    }

    void deadline(Future<?> giveUp) {
        deadline = giveUp;
    }

    /** Its result came or it failed: the deadline is not needed any more. */
    void ended() {
        Future<?> giveUp = deadline;
        if (giveUp != null) {
            giveUp.cancel(false);
        }
    }
}
