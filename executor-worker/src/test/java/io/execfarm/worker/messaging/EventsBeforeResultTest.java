package io.execfarm.worker.messaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.execfarm.contracts.ExecutionEvent;
import io.execfarm.contracts.Output;
import io.execfarm.contracts.Started;
import io.smallrye.mutiny.Uni;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class EventsBeforeResultTest {

    /** A producer whose acknowledgements the test gives, one event at a time. */
    private final List<ExecutionEvent> handed = new CopyOnWriteArrayList<>();
    private final List<CompletableFuture<Void>> acks = new CopyOnWriteArrayList<>();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private final EventsBeforeResult published = new EventsBeforeResult(event -> {
        CompletableFuture<Void> ack = new CompletableFuture<>();
        handed.add(event);
        acks.add(ack);
        return Uni.createFrom().completionStage(ack);
    });

    @Test
    void isSettledOnlyOnceTheBrokerAcknowledgedEveryEvent() throws InterruptedException {
        published.publish(new Started("r", "w", 0));
        published.publish(new Output("r", 0, Output.Stream.STDOUT, "job 3\n"));
        assertEquals(2, handed.size(), "each event goes to the producer at once");

        acks.get(0).complete(null);
        assertFalse(published.awaitSettled(Duration.ofMillis(20)), "the output is not acknowledged yet");

        acks.get(1).complete(null);
        assertTrue(published.awaitSettled(Duration.ofMillis(20)));
    }

    @Test
    void anEventTheProducerGaveUpOnIsSettled() throws InterruptedException {
        published.publish(new Output("r", 0, Output.Stream.STDERR, "lost"));
        acks.get(0).completeExceptionally(new IllegalStateException("broker gone"));
        assertTrue(published.awaitSettled(Duration.ofMillis(20)));
    }

    @AfterEach
    void stopTimer() {
        timer.shutdownNow();
    }

    @Test
    void aRunThatEndsBeforeItsFirstTickSendsNoStarted() throws InterruptedException {
        published.startedAfter(new Started("r", "w", 0), Duration.ofHours(1), timer);
        published.runEnded();
        assertEquals(List.of(), handed, "the result alone answers it");
        assertTrue(published.awaitSettled(Duration.ZERO));
    }

    @Test
    void outputBeforeTheTickSendsStartedFirst() {
        Started started = new Started("r", "w", 0);
        Output output = new Output("r", 0, Output.Stream.STDOUT, "early\n");
        published.startedAfter(started, Duration.ofHours(1), timer);
        published.publish(output);
        published.runEnded();
        assertEquals(List.of(started, output), handed);
    }

    @Test
    void aRunOutlastingItsTickSendsStartedOnce() throws InterruptedException {
        Started started = new Started("r", "w", 0);
        published.startedAfter(started, Duration.ofMillis(1), timer);
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (handed.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        published.publish(new Output("r", 0, Output.Stream.STDOUT, "later\n"));
        published.runEnded();
        assertEquals(started, handed.get(0));
        assertEquals(2, handed.size(), "started once, then the output: " + handed);
    }

    @Test
    void nothingPublishedIsSettled() throws InterruptedException {
        assertTrue(published.awaitSettled(Duration.ZERO));
    }
}
