package io.execfarm.dispatcher.events;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.subscription.MultiEmitter;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongFunction;

/**
 * One live stream of an execution's events, from an index to its result. It works in turns, one at
 * a time: a turn emits the events this instance stored and offered, in order, and reads the store
 * when one is missing or another instance stored one. Whoever asks for a turn while one runs is
 * counted, and the running turn goes round once more for all of them (the work-in-progress count
 * of Reactive Streams operators), so a wake-up is never lost between a turn's last look and its end.
 * A read that fails is made again at the next wake-up (the follower's fallback poll brings one a
 * second): a Redis failover fails reads for seconds, and the stream rides through it; only reads that
 * keep failing for longer than Redis may be away end it.
 */
final class EventStream implements EventNotifier.Listener {

    private static final JsonFactory JSON = new JsonFactory();
    private static final long NOT_FAILING = Long.MIN_VALUE;

    private final LongFunction<Uni<List<String>>> eventsFrom;
    private final MultiEmitter<? super IndexedEvent> emitter;
    private final Duration giveUpAfter;
    /** Turns asked for and not yet accounted for; whoever raises it from zero runs the turns. */
    private final AtomicInteger asked = new AtomicInteger();
    /** Events stored here, waiting for a turn to emit them. */
    private final Queue<IndexedEvent> offered = new ConcurrentLinkedQueue<>();
    /** Whether the next turn must read the store. */
    private final AtomicBoolean readWanted = new AtomicBoolean(true);
    /** The index of the next event to emit: written in turns only, read by wake-ups to skip a read. */
    private volatile long next;
    /** Since when ({@link System#nanoTime()}) every read failed, or {@link #NOT_FAILING}: written in turns only. */
    private volatile long failingSince = NOT_FAILING;

    /**
     * {@code eventsFrom} gives the stored events from an index on, in order; reads that fail for
     * longer than {@code giveUpAfter} fail the stream.
     */
    EventStream(long fromIndex, LongFunction<Uni<List<String>>> eventsFrom, MultiEmitter<? super IndexedEvent> emitter,
            Duration giveUpAfter) {
        this.next = fromIndex;
        this.eventsFrom = eventsFrom;
        this.emitter = emitter;
        this.giveUpAfter = giveUpAfter;
    }

    /** Reads what the store has so far. */
    void start() {
        ask();
    }

    /** An event was stored, here or elsewhere, at {@code index} (-1: unknown); one already emitted needs no read. */
    @Override
    public void wake(long index) {
        if (index < 0 || index >= next) {
            readWanted.set(true);
            ask();
        }
    }

    @Override
    public void offer(IndexedEvent event) {
        offered.add(event);
        ask();
    }

    private void ask() {
        if (asked.getAndIncrement() == 0) {
            turns(1);
        }
    }

    /** Runs turns until none was asked for that is not accounted for; a read continues them when it completes. */
    private void turns(int missed) {
        while (missed != 0) {
            if (emitOffered()) {
                emitter.complete();
                return;
            }
            if (readWanted.getAndSet(false)) {
                int accounted = missed;
                eventsFrom.apply(next).subscribe().with(events -> {
                    failingSince = NOT_FAILING;
                    if (emitRead(events)) {
                        emitter.complete();
                    } else {
                        turns(asked.addAndGet(-accounted));
                    }
                }, failure -> readFailed(failure, accounted));
                return;
            }
            missed = asked.addAndGet(-missed);
        }
    }

    /**
     * Ends the turns with a read still wanted, so that the next wake-up reads again; or fails the
     * stream once reads have failed for longer than {@code giveUpAfter}.
     */
    private void readFailed(Throwable failure, int accounted) {
        long now = System.nanoTime();
        if (failingSince == NOT_FAILING) {
            failingSince = now;
        } else if (now - failingSince >= giveUpAfter.toNanos()) {
            emitter.fail(failure);
            return;
        }
        readWanted.set(true);
        int missed = asked.addAndGet(-accounted);
        if (missed != 0) {
            turns(missed);
        }
    }

    /** Emits the offered events that come next, drops those already emitted; a gap wants a read. True after the result. */
    private boolean emitOffered() {
        IndexedEvent event;
        while ((event = offered.poll()) != null) {
            if (event.index() == next) {
                next++;
                emitter.emit(event);
                if ("result".equals(event.type())) {
                    return true;
                }
            } else if (event.index() > next) {
                readWanted.set(true);
            }
        }
        return false;
    }

    /** Emits events read from the store, from {@link #next} on. True after the result. */
    private boolean emitRead(List<String> events) {
        for (String json : events) {
            String type = typeOf(json);
            emitter.emit(new IndexedEvent(next++, type, json));
            if ("result".equals(type)) {
                return true;
            }
        }
        return false;
    }

    /** The event's top-level "type", read only as far as that field (an event is stored as the worker wrote it). */
    static String typeOf(String json) {
        try (JsonParser parser = JSON.createParser(json)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                return "unknown";
            }
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String field = parser.currentName();
                JsonToken value = parser.nextToken();
                if ("type".equals(field)) {
                    return value == JsonToken.VALUE_STRING ? parser.getText() : "unknown";
                }
                parser.skipChildren();
            }
            return "unknown";
        } catch (IOException e) {
            return "unknown";
        }
    }
}
