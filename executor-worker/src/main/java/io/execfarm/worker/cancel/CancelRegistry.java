package io.execfarm.worker.cancel;

import io.execfarm.worker.pool.CancelSignal;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * The cancel signals of the requests this worker holds, by request id. A request registers its
 * signal before it checks Redis for an earlier cancel, so a cancel arriving at any moment is seen.
 */
@ApplicationScoped
public class CancelRegistry {

    private final ConcurrentMap<String, CancelSignal> signals = new ConcurrentHashMap<>();

    public CancelSignal register(String requestId) {
        return signals.computeIfAbsent(requestId, id -> new CancelSignal());
    }

    public void unregister(String requestId) {
        signals.remove(requestId);
    }

    /** Cancels the request if this worker holds it. */
    public void cancel(String requestId) {
        CancelSignal signal = signals.get(requestId);
        if (signal != null) {
            signal.cancel();
        }
    }
}
