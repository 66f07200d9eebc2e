package io.execfarm.worker.cancel;

import io.execfarm.worker.pool.CancelSignal;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * The cancel signals of the requests this worker holds, one per delivery: a request delivered to
 * two consumers of this worker at once (a rebalance, a share-group redelivery) has two, a cancel
 * reaches both, and the end of one delivery leaves the other's in place. A delivery registers its
 * signal before it checks Redis for an earlier cancel, so a cancel arriving at any moment is seen.
 */
@ApplicationScoped
public class CancelRegistry {

    /** The sets are changed and read only inside the map's atomic operations on their key. */
    private final ConcurrentMap<String, Set<CancelSignal>> signals = new ConcurrentHashMap<>();

    /** A new signal for one delivery of the request; give it back with {@link #unregister}. */
    public CancelSignal register(String requestId) {
        CancelSignal signal = new CancelSignal();
        signals.compute(requestId, (id, held) -> {
            Set<CancelSignal> all = held != null ? held : new HashSet<>();
            all.add(signal);
            return all;
        });
        return signal;
    }

    public void unregister(String requestId, CancelSignal signal) {
        signals.computeIfPresent(requestId, (id, held) -> {
            held.remove(signal);
            return held.isEmpty() ? null : held;
        });
    }

    /** Cancels every delivery of the request that this worker holds. */
    public void cancel(String requestId) {
        List<CancelSignal> held = new ArrayList<>();
        signals.computeIfPresent(requestId, (id, all) -> {
            held.addAll(all);
            return all;
        });
        held.forEach(CancelSignal::cancel);
    }
}
