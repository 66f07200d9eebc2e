package io.execfarm.dispatcher.events;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.helpers.test.AssertSubscriber;
import io.smallrye.mutiny.subscription.MultiEmitter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.jetbrains.lincheck.Lincheck;
import org.junit.jupiter.api.Test;

/** {@link EventStream}'s turns against a store that is a list. */
class EventStreamTest {

    private static final Duration PATIENT = Duration.ofMinutes(1);

    private final List<String> stored = new CopyOnWriteArrayList<>();
    private final AtomicInteger reads = new AtomicInteger();

    @Test
    void readAndOfferedEventsComeOutOnceInOrderAndEndWithTheResult() {
        store("output");
        store("output");
        Follow follow = follow(0, this::readNow);
        follow.stream.start();
        IndexedEvent third = store("output");
        follow.stream.offer(third);
        follow.stream.wake(third.index());
        IndexedEvent result = store("result");
        follow.stream.wake(result.index());
        follow.stream.offer(result);

        follow.events.assertCompleted();
        assertEquals(List.of(0L, 1L, 2L, 3L), follow.events.getItems().stream().map(IndexedEvent::index).toList());
        assertEquals(List.of("output", "output", "output", "result"),
                follow.events.getItems().stream().map(IndexedEvent::type).toList());
        // The first read, and the result's notice that came before its offer: not the third's, had already.
        assertEquals(2, reads.get());
    }

    @Test
    void anOfferAfterAGapReadsWhatCameBetween() {
        Follow follow = follow(0, this::readNow);
        follow.stream.start();
        store("output");
        IndexedEvent result = store("result");
        follow.stream.offer(result);

        follow.events.assertCompleted();
        assertEquals(List.of("output", "result"), follow.events.getItems().stream().map(IndexedEvent::type).toList());
    }

    /** A Redis failover fails reads for seconds: the stream reads again at the next wake-up and misses nothing. */
    @Test
    void aReadThatFailsIsMadeAgainAtTheNextWakeUp() {
        store("output");
        AtomicInteger failuresLeft = new AtomicInteger(2);
        Follow follow = follow(0, from -> failuresLeft.getAndDecrement() > 0
                ? Uni.createFrom().failure(new IllegalStateException("CLUSTERDOWN The cluster is down"))
                : readNow(from));
        follow.stream.start();
        follow.stream.wake(-1);
        follow.events.assertNotTerminated();
        assertEquals(List.of(), follow.events.getItems());
        follow.stream.offer(store("result"));

        follow.events.assertCompleted();
        assertEquals(List.of("output", "result"), follow.events.getItems().stream().map(IndexedEvent::type).toList());
    }

    @Test
    void readsThatKeepFailingEndTheStream() {
        Follow follow = follow(0, from -> Uni.createFrom().failure(new IllegalStateException("Connection refused")),
                Duration.ZERO);
        follow.stream.start();
        follow.events.assertNotTerminated();
        follow.stream.wake(-1);

        follow.events.assertFailedWith(IllegalStateException.class, "Connection refused");
    }

    @Test
    void aStreamFromAnIndexStartsThere() {
        store("output");
        store("output");
        store("result");
        Follow follow = follow(2, this::readNow);
        follow.stream.start();

        follow.events.assertCompleted();
        assertEquals(List.of(2L), follow.events.getItems().stream().map(IndexedEvent::index).toList());
    }

    /**
     * Two events stored and announced from two threads, a stream whose reads complete at once: in
     * every interleaving of the two wake-ups (Lincheck's model checker runs them all, switching
     * threads at each shared read and write), both events come out. A wake-up lost between a turn's
     * last look and its end would leave the second for the fallback poll, which is not running here.
     */
    @Test
    void aWakeUpDuringATurnIsNeverLost() {
        Lincheck.runConcurrentTest(500, () -> {
            List<String> events = new CopyOnWriteArrayList<>();
            Emitted emitted = new Emitted();
            EventStream stream = new EventStream(0, from -> Uni.createFrom().item(() -> {
                List<String> now = List.copyOf(events);
                return from >= now.size() ? List.<String>of() : now.subList((int) from, now.size());
            }), emitted, PATIENT);
            stream.start();
            Thread first = new Thread(() -> {
                events.add("{\"type\":\"output\"}");
                stream.wake(-1);
            });
            Thread second = new Thread(() -> {
                events.add("{\"type\":\"output\"}");
                stream.wake(-1);
            });
            first.start();
            second.start();
            try {
                first.join();
                second.join();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            assertEquals(2, emitted.items.size(), () -> "both stored events came out: " + emitted.items);
        });
    }

    @Test
    void typeIsReadAsFarAsItsField() {
        assertEquals("output", EventStream.typeOf("{\"type\":\"output\",\"text\":\"x\"}"));
        assertEquals("result", EventStream.typeOf("{\"requestId\":\"r\",\"nested\":{\"type\":\"no\"},\"type\":\"result\"}"));
        assertEquals("unknown", EventStream.typeOf("{\"text\":\"x\"}"));
        assertEquals("unknown", EventStream.typeOf("not json"));
        assertEquals("unknown", EventStream.typeOf("{\"type\":7}"));
    }

    private record Follow(EventStream stream, AssertSubscriber<IndexedEvent> events) {
    }

    /** The emitted events, in a plain list: nothing of Mutiny's between the stream and the check. */
    private static final class Emitted implements MultiEmitter<IndexedEvent> {
        final List<IndexedEvent> items = new ArrayList<>();

        @Override
        public synchronized MultiEmitter<IndexedEvent> emit(IndexedEvent item) {
            items.add(item);
            return this;
        }

        @Override
        public void fail(Throwable failure) {
            throw new AssertionError(failure);
        }

        @Override
        public void complete() {
        }

        @Override
        public MultiEmitter<IndexedEvent> onTermination(Runnable onTermination) {
            return this;
        }

        @Override
        public boolean isCancelled() {
            return false;
        }

        @Override
        public long requested() {
            return Long.MAX_VALUE;
        }
    }

    private Follow follow(long from, java.util.function.LongFunction<Uni<List<String>>> reader) {
        return follow(from, reader, PATIENT);
    }

    private Follow follow(long from, java.util.function.LongFunction<Uni<List<String>>> reader, Duration giveUpAfter) {
        AtomicReference<EventStream> stream = new AtomicReference<>();
        AssertSubscriber<IndexedEvent> events = Multi.createFrom().<IndexedEvent>emitter(
                emitter -> stream.set(new EventStream(from, reader, emitter, giveUpAfter)))
                .subscribe().withSubscriber(AssertSubscriber.create(Long.MAX_VALUE));
        return new Follow(stream.get(), events);
    }

    private IndexedEvent store(String type) {
        String json = "{\"type\":\"" + type + "\"}";
        synchronized (stored) {
            stored.add(json);
            return new IndexedEvent(stored.size() - 1, type, json);
        }
    }

    private Uni<List<String>> readNow(long from) {
        reads.incrementAndGet();
        return Uni.createFrom().item(() -> from >= stored.size() ? List.of()
                : new ArrayList<>(stored.subList((int) from, stored.size())));
    }
}
