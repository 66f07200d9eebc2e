package io.execfarm.worker.delivery;

import io.execfarm.worker.config.WorkerConfig;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.function.Supplier;
import org.jboss.logging.Logger;

/**
 * Runs the worker's operations against Redis and Kafka with bounded retries: a transient failure
 * ({@link TransientFailures}) is retried with growing pauses for up to {@code retry.give-up-after};
 * any other failure, or a transient one that outlasts that, ends in {@link GaveUp}, so the caller
 * can answer the request with an error and let its partition move on instead of stalling it.
 */
@ApplicationScoped
public class Retries {

    private static final Logger LOG = Logger.getLogger(Retries.class);

    private final Duration firstBackoff;
    private final Duration maxBackoff;
    private final Duration giveUpAfter;

    @Inject
    public Retries(WorkerConfig config) {
        this(config.retry().firstBackoff(), config.retry().maxBackoff(), config.retry().giveUpAfter());
    }

    public Retries(Duration firstBackoff, Duration maxBackoff, Duration giveUpAfter) {
        this.firstBackoff = firstBackoff;
        this.maxBackoff = maxBackoff;
        this.giveUpAfter = giveUpAfter;
    }

    /**
     * Calls {@code operation} on this thread; a retry runs on Mutiny's worker pool after its pause,
     * while this thread waits. {@code what} names the operation in logs and in {@link GaveUp}.
     */
    public <T> T call(String what, Supplier<T> operation) {
        try {
            return Uni.createFrom().item(operation)
                    .onFailure(TransientFailures::isTransient).invoke(failure -> LOG.warnf("%s failed, retrying: %s",
                            what, failure.toString()))
                    .onFailure(TransientFailures::isTransient).retry()
                    .withBackOff(firstBackoff, maxBackoff).withJitter(0.2)
                    .expireIn(giveUpAfter.toMillis())
                    .await().indefinitely();
        } catch (RuntimeException e) {
            if (Thread.currentThread().isInterrupted()) {
                throw e;
            }
            String how = TransientFailures.isTransient(e) ? "still failing after " + giveUpAfter.toSeconds() + " s"
                    : "failed";
            throw new GaveUp(what + " " + how + ": " + e, e);
        }
    }

    public void run(String what, Runnable operation) {
        call(what, () -> {
            operation.run();
            return null;
        });
    }

    /** An operation that failed for good, or kept failing past the retry budget. */
    public static final class GaveUp extends RuntimeException {

        GaveUp(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
