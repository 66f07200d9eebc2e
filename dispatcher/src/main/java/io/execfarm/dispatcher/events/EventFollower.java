package io.execfarm.dispatcher.events;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.subscription.MultiEmitter;
import io.vertx.mutiny.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Follows one execution's events from a given index to its result, wherever they were stored:
 * reads what Redis has, then takes each event this instance stores as it is stored, and reads
 * again whenever another instance's notification for the execution arrives (and once a second, in
 * case a notification was missed). Ends after the result.
 */
@ApplicationScoped
public class EventFollower {

    private static final long FALLBACK_POLL_MS = 1000;

    private final ExecutionStore store;
    private final EventNotifier notifier;
    private final Vertx vertx;
    private final ObjectMapper json = new ObjectMapper();
    private final AtomicInteger following = new AtomicInteger();

    public EventFollower(ExecutionStore store, EventNotifier notifier, Vertx vertx) {
        this.store = store;
        this.notifier = notifier;
        this.vertx = vertx;
    }

    /** Streams that are following now, for the SSE clients gauge. */
    public int following() {
        return following.get();
    }

    public Multi<IndexedEvent> follow(String requestId, long fromIndex) {
        return Multi.createFrom().emitter(emitter -> new Follow(requestId, fromIndex, emitter).start());
    }

    private final class Follow implements EventNotifier.Listener {
        private final String requestId;
        private final MultiEmitter<? super IndexedEvent> emitter;
        private final AtomicBoolean reading = new AtomicBoolean();
        private final AtomicBoolean again = new AtomicBoolean();
        private long next;
        private long timer = -1;

        Follow(String requestId, long fromIndex, MultiEmitter<? super IndexedEvent> emitter) {
            this.requestId = requestId;
            this.next = fromIndex;
            this.emitter = emitter;
        }

        void start() {
            following.incrementAndGet();
            // Listen before the first read: an event stored in between still wakes this stream.
            notifier.listen(requestId, this);
            timer = vertx.setPeriodic(FALLBACK_POLL_MS, id -> read());
            emitter.onTermination(this::stop);
            read();
        }

        private void stop() {
            notifier.unlisten(requestId, this);
            if (timer >= 0) {
                vertx.cancelTimer(timer);
            }
            following.decrementAndGet();
        }

        @Override
        public void wake() {
            read();
        }

        /** The next event, as stored here, is emitted without a read; any other causes one. */
        @Override
        public void offer(IndexedEvent event) {
            if (!reading.compareAndSet(false, true)) {
                again.set(true);
                return;
            }
            if (event.index() != next) {
                reading.set(false);
                read();
                return;
            }
            next++;
            emitter.emit(event);
            endTurn("result".equals(event.type()));
        }

        /** Ends a read's or an offer's turn: after the result the stream is complete, else a wake-up meanwhile reads again. */
        private void endTurn(boolean finished) {
            reading.set(false);
            if (finished) {
                emitter.complete();
            } else if (again.getAndSet(false)) {
                read();
            }
        }

        /** One read or offer at a time; a wake-up meanwhile causes one more read. */
        private void read() {
            if (!reading.compareAndSet(false, true)) {
                again.set(true);
                return;
            }
            store.events(requestId, next).subscribe().with(events -> {
                boolean finished = false;
                for (String event : events) {
                    String type = typeOf(event);
                    emitter.emit(new IndexedEvent(next++, type, event));
                    if ("result".equals(type)) {
                        finished = true;
                        break;
                    }
                }
                endTurn(finished);
            }, failure -> {
                reading.set(false);
                emitter.fail(failure);
            });
        }

        private String typeOf(String event) {
            try {
                JsonNode node = json.readTree(event);
                return node.path("type").asText("unknown");
            } catch (Exception e) {
                return "unknown";
            }
        }
    }
}
