package io.execfarm.worker.delivery;

import java.time.Duration;
import java.util.function.Supplier;
import org.jboss.logging.Logger;

/**
 * Runs an operation against Redis or Kafka until it succeeds, backing off up to a few seconds.
 * A request whose bookkeeping cannot be done yet is not acknowledged; its consumer waits, and the
 * backlog stays in Kafka until the broker or Redis is back.
 */
public final class Retrying {

    private static final Logger LOG = Logger.getLogger(Retrying.class);
    private static final Duration FIRST_BACKOFF = Duration.ofMillis(100);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(5);

    private Retrying() {
    }

    public static <T> T call(String what, Supplier<T> operation) {
        Duration backoff = FIRST_BACKOFF;
        for (int attempt = 1; ; attempt++) {
            try {
                return operation.get();
            } catch (RuntimeException e) {
                if (Thread.currentThread().isInterrupted()) {
                    throw e;
                }
                LOG.warnf("%s failed (attempt %d), retrying in %d ms: %s", what, attempt, backoff.toMillis(),
                        e.getMessage());
                try {
                    Thread.sleep(backoff.toMillis());
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
                backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
            }
        }
    }

    public static void run(String what, Runnable operation) {
        call(what, () -> {
            operation.run();
            return null;
        });
    }
}
