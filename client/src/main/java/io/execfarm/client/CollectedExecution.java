package io.execfarm.client;

import io.execfarm.contracts.ExecutionEvent;
import io.execfarm.contracts.Result;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * Collects an execution's events and completes a future with them when the result comes. The
 * future is completed on the delivery executor, so what a caller chains onto it never runs on,
 * and never holds up, the reply consumer's thread.
 */
final class CollectedExecution implements ExecutionSink {

    private final String requestId;
    private final long sentNanos;
    private final Executor delivery;
    private final List<ExecutionEvent> events = new ArrayList<>();
    private final CompletableFuture<Execution> future = new CompletableFuture<>();

    CollectedExecution(String requestId, long sentNanos, Executor delivery) {
        this.requestId = requestId;
        this.sentNanos = sentNanos;
        this.delivery = delivery;
    }

    CompletableFuture<Execution> future() {
        return future;
    }

    @Override
    public void next(ExecutionEvent event) {
        events.add(event);
    }

    @Override
    public void end(Result result, long answeredNanos) {
        events.add(result);
        Execution execution = new Execution(requestId, events, result, sentNanos, answeredNanos);
        delivery.execute(() -> future.complete(execution));
    }

    @Override
    public void fail(Throwable failure) {
        delivery.execute(() -> future.completeExceptionally(failure));
    }
}
