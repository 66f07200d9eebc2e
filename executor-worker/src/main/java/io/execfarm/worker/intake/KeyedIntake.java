package io.execfarm.worker.intake;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * Runs the records one consumer takes side by side, those of one key (a session's requests) one
 * after another in the order taken, as Kafka's partition order promises for a key and no more.
 *
 * <p>A record whose key has nothing running starts once the {@link AdmissionGate} gives it a
 * process. One whose key is busy waits here behind its key's earlier records, holding no permit,
 * and runs on the permit of the record before it when that one ends: a session's next request
 * never queues behind other sessions for the process its session holds anyway. At most
 * {@code maxWaiting} records wait so.
 *
 * <p>A record is taken when the stage {@link #take} returns completes, and the consumer hands over
 * its next record only then ({@code take} is called for one record at a time): a worker with no
 * free process leaves what follows in Kafka. Its channel commits each partition's offset up to its
 * lowest record not yet acknowledged, so a record still waiting or running when the worker dies
 * is delivered again.
 */
public final class KeyedIntake implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(KeyedIntake.class);

    private final String name;
    private final AdmissionGate gate;
    private final int maxWaiting;
    private final ExecutorService runner;
    private final Object lock = new Object();
    /** Keys with a record running or about to, and the records waiting behind it. */
    private final Map<String, Deque<Runnable>> busy = new HashMap<>();
    private int waiting;
    /** A busy key's record taken while {@code maxWaiting} records waited already. */
    private Pending pending;
    private boolean closed;

    /** @param runner runs the records; owned by this intake from now on, and shut down by {@link #close} */
    public KeyedIntake(String name, AdmissionGate gate, int maxWaiting, ExecutorService runner) {
        this.name = name;
        this.gate = gate;
        this.maxWaiting = maxWaiting;
        this.runner = runner;
    }

    /**
     * Takes {@code work}, the handling of one record with key {@code key} (null: a key of its own).
     * The stage completes when the record is running or waiting behind its key; after
     * {@link #close}, never.
     */
    public CompletionStage<Void> take(String key, Runnable work) {
        synchronized (lock) {
            if (pending != null) {
                throw new IllegalStateException(name + ": a record was offered before the one before it was taken");
            }
            if (closed) {
                return new CompletableFuture<>();
            }
            if (key != null) {
                Deque<Runnable> behind = busy.get(key);
                if (behind != null) {
                    if (waiting < maxWaiting) {
                        behind.add(work);
                        waiting++;
                        return CompletableFuture.completedFuture(null);
                    }
                    pending = new Pending(key, work, new CompletableFuture<>());
                    return pending.taken();
                }
                busy.put(key, new ArrayDeque<>());
            }
        }
        return startWithPermit(key, work);
    }

    /** Records waiting behind a busy key. */
    public int waiting() {
        synchronized (lock) {
            return waiting;
        }
    }

    private CompletionStage<Void> startWithPermit(String key, Runnable work) {
        return gate.acquire().thenRun(() -> start(key, work));
    }

    private void start(String key, Runnable work) {
        try {
            runner.execute(() -> run(key, work));
        } catch (RejectedExecutionException closing) {
            ended(key);
        }
    }

    private void run(String key, Runnable work) {
        try {
            work.run();
        } catch (RuntimeException e) {
            LOG.errorf(e, "%s: a record's handling failed", name);
        } finally {
            ended(key);
        }
    }

    /** Passes the permit to the key's next record, or back to the gate; then takes the pending record if it now fits. */
    private void ended(String key) {
        Runnable next = null;
        Pending admitted = null;
        boolean admittedNeedsPermit = false;
        synchronized (lock) {
            if (key != null) {
                Deque<Runnable> behind = busy.get(key);
                next = closed ? null : behind.poll();
                if (next != null) {
                    waiting--;
                } else {
                    waiting -= behind.size();
                    busy.remove(key);
                }
            }
            if (pending != null && !closed) {
                Deque<Runnable> behind = busy.get(pending.key());
                if (behind == null) {
                    busy.put(pending.key(), new ArrayDeque<>());
                    admittedNeedsPermit = true;
                    admitted = pending;
                } else if (waiting < maxWaiting) {
                    behind.add(pending.work());
                    waiting++;
                    admitted = pending;
                }
                if (admitted != null) {
                    pending = null;
                }
            }
        }
        if (next != null) {
            start(key, next);
        } else {
            gate.release();
        }
        if (admitted != null) {
            CompletableFuture<Void> taken = admitted.taken();
            if (admittedNeedsPermit) {
                startWithPermit(admitted.key(), admitted.work()).thenRun(() -> taken.complete(null));
            } else {
                taken.complete(null);
            }
        }
    }

    /**
     * Takes nothing more; records waiting behind their key are dropped (their offsets stay
     * uncommitted, so they are delivered again), and those running get {@code grace} to end
     * before they are interrupted.
     */
    public void close(Duration grace) {
        synchronized (lock) {
            closed = true;
        }
        runner.shutdown();
        try {
            if (!runner.awaitTermination(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                LOG.infof("%s: requests still running after %s at shutdown are stopped", name, grace);
                runner.shutdownNow();
                runner.awaitTermination(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            runner.shutdownNow();
        }
    }

    @Override
    public void close() {
        close(Duration.ZERO);
    }

    private record Pending(String key, Runnable work, CompletableFuture<Void> taken) {
    }
}
