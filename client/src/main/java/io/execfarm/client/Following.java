package io.execfarm.client;

import io.execfarm.contracts.ExecutionEvent;
import io.execfarm.contracts.Result;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;
import java.util.function.Consumer;

/**
 * Hands each event to a callback as it comes and keeps them all, for a caller that waits for the
 * end; a callback that throws ends the wait with what it threw.
 */
final class Following implements Flow.Subscriber<ExecutionEvent> {

    private final String requestId;
    private final long sentNanos;
    private final Consumer<ExecutionEvent> each;
    private final List<ExecutionEvent> events = new ArrayList<>();
    private final CompletableFuture<Execution> done = new CompletableFuture<>();
    private Flow.Subscription subscription;

    Following(String requestId, long sentNanos, Consumer<ExecutionEvent> each) {
        this.requestId = requestId;
        this.sentNanos = sentNanos;
        this.each = each;
    }

    CompletableFuture<Execution> done() {
        return done;
    }

    @Override
    public void onSubscribe(Flow.Subscription given) {
        subscription = given;
        given.request(Long.MAX_VALUE);
    }

    @Override
    public void onNext(ExecutionEvent event) {
        events.add(event);
        try {
            each.accept(event);
        } catch (RuntimeException e) {
            // The caller's callback failed: the wait ends with its failure, not with a stream stuck mid-signal.
            subscription.cancel();
            done.completeExceptionally(e);
        }
    }

    @Override
    public void onError(Throwable failure) {
        done.completeExceptionally(failure);
    }

    @Override
    public void onComplete() {
        Result result = (Result) events.get(events.size() - 1);
        done.complete(new Execution(requestId, events, result, sentNanos, System.nanoTime()));
    }
}
