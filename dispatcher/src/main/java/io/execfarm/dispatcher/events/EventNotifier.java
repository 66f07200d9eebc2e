package io.execfarm.dispatcher.events;

import io.quarkus.redis.datasource.ReactiveRedisDataSource;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.jboss.logging.Logger;

/**
 * Tells this instance's live streams of an execution that it has a new event: directly, with the
 * event, when this instance stored it; by Redis pub/sub (one subscription per instance, fanned out
 * locally by request id) when any instance did, naming the event's index, so that streams read it
 * from Redis unless they have it already.
 */
@ApplicationScoped
public class EventNotifier {

    /** A live stream of one execution. */
    public interface Listener {

        /** An event was stored somewhere, at {@code index} (-1 when the notice did not say): read what is new. */
        void wake(long index);

        /** This event was stored here, at its index: take it as is, or read if it is not the next one. */
        void offer(IndexedEvent event);
    }

    private static final Logger LOG = Logger.getLogger(EventNotifier.class);
    private static final Duration RESUBSCRIBE_FIRST_BACKOFF = Duration.ofMillis(100);
    private static final Duration RESUBSCRIBE_MAX_BACKOFF = Duration.ofSeconds(2);

    private final ReactiveRedisDataSource redis;
    private final ConcurrentMap<String, Set<Listener>> listeners = new ConcurrentHashMap<>();

    public EventNotifier(ReactiveRedisDataSource redis) {
        this.redis = redis;
    }

    /**
     * A subscription ends when its Redis connection does (a restart, or a cluster node lost): it is
     * made again, on whichever node answers, until it holds; streams poll meanwhile.
     */
    void subscribe(@Observes StartupEvent event) {
        redis.pubsub(String.class).subscribe(ExecutionStore.NOTIFICATIONS)
                .onCompletion().failWith(() -> new IllegalStateException("the subscription's connection closed"))
                .onFailure().invoke(failure -> LOG.warnf("event notifications stopped (%s); subscribing again, streams "
                        + "poll meanwhile", failure.getMessage()))
                .onFailure().retry().withBackOff(RESUBSCRIBE_FIRST_BACKOFF, RESUBSCRIBE_MAX_BACKOFF).indefinitely()
                .subscribe().with(this::wake);
    }

    public void listen(String requestId, Listener listener) {
        listeners.computeIfAbsent(requestId, id -> ConcurrentHashMap.newKeySet()).add(listener);
    }

    public void unlisten(String requestId, Listener listener) {
        listeners.computeIfPresent(requestId, (id, set) -> {
            set.remove(listener);
            return set.isEmpty() ? null : set;
        });
    }

    /** Hands an event this instance stored to its streams here. */
    public void deliver(String requestId, IndexedEvent event) {
        Set<Listener> set = listeners.get(requestId);
        if (set != null) {
            set.forEach(listener -> listener.offer(event));
        }
    }

    /** A notice is "requestId index" (ExecutionStore); a bare request id, as older dispatchers sent, names no index. */
    private void wake(String notice) {
        int space = notice.indexOf(' ');
        String requestId = space < 0 ? notice : notice.substring(0, space);
        long index = space < 0 ? -1 : indexIn(notice.substring(space + 1));
        Set<Listener> set = listeners.get(requestId);
        if (set != null) {
            set.forEach(listener -> listener.wake(index));
        }
    }

    private static long indexIn(String text) {
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
