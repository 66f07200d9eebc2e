package io.execfarm.worker.messaging;

import io.execfarm.contracts.ExecutionEvent;
import io.execfarm.contracts.Started;
import io.smallrye.mutiny.Uni;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.jboss.logging.Logger;

/**
 * The events one request publishes before its result ({@code started}, output), each handed to the
 * producer at once, in order. {@code started} is sent only when the run outlasts its first output
 * tick or has output to publish first: a run that ends sooner is answered by its result alone,
 * which carries what {@code started} would (the worker, the time queued). The result is stored in
 * Redis only after the broker acknowledged them: a worker that dies after storing it leaves a
 * result that a redelivery publishes from Redis, and that result's output must be on the reply
 * topic already, or its sender gets a result with output missing.
 */
final class EventsBeforeResult {

    private static final Logger LOG = Logger.getLogger(EventsBeforeResult.class);

    private final Function<ExecutionEvent, Uni<Void>> send;
    private final List<CompletableFuture<Void>> sent = new ArrayList<>();
    private Started unsentStarted;
    private ScheduledFuture<?> startedTick;

    EventsBeforeResult(Function<ExecutionEvent, Uni<Void>> send) {
        this.send = send;
    }

    /** Sends {@code started} once {@code tick} has passed, unless output or the run's end came first. */
    synchronized void startedAfter(Started started, Duration tick, ScheduledExecutorService timer) {
        unsentStarted = started;
        startedTick = timer.schedule(this::sendStarted, tick.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** The run ended: a {@code started} not sent by now is never sent. */
    synchronized void runEnded() {
        unsentStarted = null;
        if (startedTick != null) {
            startedTick.cancel(false);
        }
    }

    synchronized void publish(ExecutionEvent event) {
        sendStarted();
        send(event);
    }

    private synchronized void sendStarted() {
        if (unsentStarted != null) {
            Started started = unsentStarted;
            unsentStarted = null;
            send(started);
        }
    }

    private void send(ExecutionEvent event) {
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
