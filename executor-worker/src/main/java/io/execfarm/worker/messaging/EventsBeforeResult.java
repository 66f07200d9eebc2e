package io.execfarm.worker.messaging;

import io.execfarm.contracts.ExecutionEvent;
import io.smallrye.mutiny.Uni;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.jboss.logging.Logger;

/**
 * The events one request publishes before its result ({@code started}, output), each handed to the
 * producer at once, in order. The result is stored in Redis only after the broker acknowledged
 * them: a worker that dies after storing it leaves a result that a redelivery publishes from Redis,
 * and that result's output must be on the reply topic already, or its sender gets a result with
 * output missing.
 */
final class EventsBeforeResult {

    private static final Logger LOG = Logger.getLogger(EventsBeforeResult.class);

    private final Function<ExecutionEvent, Uni<Void>> send;
    private final List<CompletableFuture<Void>> sent = new ArrayList<>();

    EventsBeforeResult(Function<ExecutionEvent, Uni<Void>> send) {
        this.send = send;
    }

    synchronized void publish(ExecutionEvent event) {
        sent.add(send.apply(event).subscribeAsCompletionStage().exceptionally(failure -> {
            LOG.errorf("could not publish %s event %s: %s", event.type(), event.requestId(), failure.getMessage());
            return null;
        }));
    }

    /**
     * Waits until the broker has acknowledged (or the producer has given up on) every event
     * published so far. Returns false when {@code timeout} passed first.
     */
    boolean awaitSettled(Duration timeout) throws InterruptedException {
        CompletableFuture<Void> all;
        synchronized (this) {
            all = CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new));
        }
        try {
            all.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (ExecutionException e) {
            throw new IllegalStateException("failures are settled in publish", e);
        }
    }
}
