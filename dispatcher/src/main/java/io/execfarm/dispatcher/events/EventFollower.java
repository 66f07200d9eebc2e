package io.execfarm.dispatcher.events;

import io.execfarm.dispatcher.config.DispatcherConfig;
import io.smallrye.mutiny.Multi;
import io.vertx.mutiny.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Follows one execution's events from a given index to its result, wherever they were stored:
 * reads what Redis has, then takes each event this instance stores as it is stored, and reads
 * again whenever another instance's notification for the execution names an event it has not had
 * (and once a second, in case a notification was missed, or a read failed). Ends after the result, or
 * once reads have failed for as long as the reply consumer keeps trying to store an event.
 */
@ApplicationScoped
public class EventFollower {

    private static final long FALLBACK_POLL_MS = 1000;

    private final ExecutionStore store;
    private final EventNotifier notifier;
    private final Vertx vertx;
    private final Duration giveUpAfter;
    private final AtomicInteger following = new AtomicInteger();

    public EventFollower(ExecutionStore store, EventNotifier notifier, Vertx vertx, DispatcherConfig config) {
        this.store = store;
        this.notifier = notifier;
        this.vertx = vertx;
        this.giveUpAfter = config.replyStoreGiveUpAfter();
    }

    /** Streams that are following now, for the SSE clients gauge. */
    public int following() {
        return following.get();
    }

    public Multi<IndexedEvent> follow(String requestId, long fromIndex) {
        return Multi.createFrom().emitter(emitter -> {
            EventStream stream = new EventStream(fromIndex, from -> store.events(requestId, from), emitter, giveUpAfter);
            following.incrementAndGet();
            // Listen before the first read: an event stored in between still wakes this stream.
            notifier.listen(requestId, stream);
            long timer = vertx.setPeriodic(FALLBACK_POLL_MS, id -> stream.wake(-1));
            emitter.onTermination(() -> {
                notifier.unlisten(requestId, stream);
                vertx.cancelTimer(timer);
                following.decrementAndGet();
            });
            stream.start();
        });
    }
}
