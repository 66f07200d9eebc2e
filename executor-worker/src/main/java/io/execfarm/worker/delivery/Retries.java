package io.execfarm.worker.delivery;

import io.execfarm.worker.config.WorkerConfig;
import io.smallrye.mutiny.Uni;
import io.execfarm.worker.threads.DaemonThreads;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
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

    /** Retries run here: the operations block, and Mutiny's default executor may be a Vert.x event loop in Quarkus. */
    private static final int RETRY_THREADS = 4;

    private final Duration firstBackoff;
    private final Duration maxBackoff;
    private final Duration giveUpAfter;
    private final ScheduledExecutorService retryThreads =
            Executors.newScheduledThreadPool(RETRY_THREADS, DaemonThreads.named("execfarm-retry"));

    @Inject
    public Retries(WorkerConfig config) {
        this(config.retry().firstBackoff(), config.retry().maxBackoff(), config.retry().giveUpAfter());
    }

    public Retries(Duration firstBackoff, Duration maxBackoff, Duration giveUpAfter) {
        this.firstBackoff = firstBackoff;
        this.maxBackoff = maxBackoff;
        this.giveUpAfter = giveUpAfter;
    }

    @PreDestroy
    void stop() {
        retryThreads.shutdownNow();
    }

    /**
     * Calls {@code operation} on this thread; a retry runs on a thread of this class's own after
     * its pause, while this thread waits. {@code what} names the operation in logs and in {@link GaveUp}.
     */
    public <T> T call(String what, Supplier<T> operation) {
        try {
            return Uni.createFrom().item(operation)
                    .onFailure(TransientFailures::isTransient).invoke(failure -> LOG.warnf("%s failed, retrying: %s",
                            what, failure.toString()))
                    .onFailure(TransientFailures::isTransient).retry()
                    .withExecutor(retryThreads)
                    .withBackOff(firstBackoff, maxBackoff).withJitter(0.2)
                    .expireIn(giveUpAfter.toMillis())
                    .await().indefinitely();
        } catch (RuntimeException e) {
            if (Thread.currentThread().isInterrupted()) {
                throw e;
            }
            boolean outlasted = TransientFailures.isTransient(e);
            String how = outlasted ? "still failing after " + giveUpAfter.toSeconds() + " s" : "failed";
            throw new GaveUp(what + " " + how + ": " + e, e, outlasted);
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

        private final boolean outlasted;

        GaveUp(String message, Throwable cause, boolean outlasted) {
            super(message, cause);
            this.outlasted = outlasted;
        }

        /**
         * True when the failure was of the kind that passes (a service away) and outlasted the
         * retry budget; false when it failed for good at once (a script error, a refused write).
         */
        public boolean outlasted() {
            return outlasted;
        }
    }
}
