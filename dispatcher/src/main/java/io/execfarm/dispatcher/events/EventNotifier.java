package io.execfarm.dispatcher.events;

import io.quarkus.redis.datasource.ReactiveRedisDataSource;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.jboss.logging.Logger;

/**
 * Wakes this instance's live streams when any instance stored a new event: one Redis pub/sub
 * subscription per instance, fanned out locally by request id.
 */
@ApplicationScoped
public class EventNotifier {

    private static final Logger LOG = Logger.getLogger(EventNotifier.class);

    private final ReactiveRedisDataSource redis;
    private final ConcurrentMap<String, Set<Runnable>> listeners = new ConcurrentHashMap<>();

    public EventNotifier(ReactiveRedisDataSource redis) {
        this.redis = redis;
    }

    void subscribe(@Observes StartupEvent event) {
        redis.pubsub(String.class).subscribe(ExecutionStore.NOTIFICATIONS)
                .subscribe().with(this::notifyListeners,
                        failure -> LOG.errorf("event notifications stopped (streams fall back to polling): %s",
                                failure.getMessage()));
    }

    public void listen(String requestId, Runnable listener) {
        listeners.computeIfAbsent(requestId, id -> ConcurrentHashMap.newKeySet()).add(listener);
    }

    public void unlisten(String requestId, Runnable listener) {
        listeners.computeIfPresent(requestId, (id, set) -> {
            set.remove(listener);
            return set.isEmpty() ? null : set;
        });
    }

    private void notifyListeners(String requestId) {
        Set<Runnable> set = listeners.get(requestId);
        if (set != null) {
            set.forEach(Runnable::run);
        }
    }
}
