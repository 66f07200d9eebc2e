package io.execfarm.worker.intake;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class KeyedIntakeTest {

    private final AdmissionGate gate = new AdmissionGate(2);
    private final KeyedIntake intake = new KeyedIntake("test", gate, 2, Executors.newFixedThreadPool(4));
    private final List<String> log = new CopyOnWriteArrayList<>();

    @AfterEach
    void close() {
        intake.close();
    }

    @Test
    void aKeysRecordsRunInOrderAndWaitWithoutAPermitWhileOtherKeysRun() throws Exception {
        Blocker a1 = new Blocker("a1");
        taken(intake.take("a", a1));
        a1.awaitStarted();
        taken(intake.take("a", new Blocker("a2").released()));
        assertEquals(1, intake.waiting());
        assertEquals(1, gate.free(), "the record waiting behind its key holds no permit");

        Blocker b1 = new Blocker("b1");
        taken(intake.take("b", b1));
        b1.awaitStarted();
        assertEquals(List.of("a1", "b1"), started(), "b runs while a's first record still runs");
        b1.release();

        a1.release();
        awaitLog("a2");
        assertEquals(List.of("a1", "b1", "a2"), started(), "a's second record runs after its first, on its permit");
        awaitFree(2);
    }

    @Test
    void nothingMoreIsTakenThanThereArePermits() throws Exception {
        Blocker first = new Blocker("first");
        Blocker second = new Blocker("second");
        taken(intake.take("x", first));
        taken(intake.take(null, second));
        CompletionStage<Void> third = intake.take("y", new Blocker("third").released());
        assertFalse(third.toCompletableFuture().isDone(), "no process is free: the record is not taken");
        second.release();
        taken(third);
        awaitLog("third");
        first.release();
        awaitFree(2);
    }

    @Test
    void pastTheWaitingLimitTheNextRecordIsTakenOnlyWhenOneStarts() throws Exception {
        Blocker a1 = new Blocker("a1");
        taken(intake.take("a", a1));
        a1.awaitStarted();
        taken(intake.take("a", new Blocker("a2").released()));
        taken(intake.take("a", new Blocker("a3").released()));
        CompletionStage<Void> a4 = intake.take("a", new Blocker("a4").released());
        assertFalse(a4.toCompletableFuture().isDone(), "two records wait already");
        a1.release();
        taken(a4);
        awaitLog("a4");
        assertEquals(List.of("a1", "a2", "a3", "a4"), started());
        awaitFree(2);
    }

    @Test
    void aRecordWhoseHandlingFailsStillPassesItsKeyOn() throws Exception {
        taken(intake.take("a", () -> {
            log.add("boom");
            throw new IllegalStateException("handling failed");
        }));
        taken(intake.take("a", new Blocker("after").released()));
        awaitLog("after");
        awaitFree(2);
    }

    @Test
    void aWaiterThatCancelsGetsNoPermitAndTheNextWaiterDoes() throws Exception {
        assertTrue(gate.tryAcquire());
        assertTrue(gate.tryAcquire());
        CompletableFuture<Void> gaveUp = gate.acquire();
        CompletableFuture<Void> next = gate.acquire();
        assertTrue(gaveUp.cancel(false));
        gate.release();
        next.get(5, TimeUnit.SECONDS);
        assertEquals(0, gate.free());
        gate.release();
        gate.release();
        assertEquals(2, gate.free());
    }

    private List<String> started() {
        return List.copyOf(log);
    }

    private void awaitLog(String entry) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!log.contains(entry)) {
            assertTrue(System.nanoTime() < deadline, entry + " never ran: " + log);
            Thread.sleep(5);
        }
    }

    private void awaitFree(int permits) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (gate.free() != permits) {
            assertTrue(System.nanoTime() < deadline, "permits free: " + gate.free());
            Thread.sleep(5);
        }
    }

    private static void taken(CompletionStage<Void> stage) throws Exception {
        stage.toCompletableFuture().get(5, TimeUnit.SECONDS);
    }

    /** A record's handling that logs its start and runs until released. */
    private final class Blocker implements Runnable {

        private final String name;
        private final CountDownLatch started = new CountDownLatch(1);
        private final CountDownLatch release = new CountDownLatch(1);

        Blocker(String name) {
            this.name = name;
        }

        Blocker released() {
            release.countDown();
            return this;
        }

        void release() {
            release.countDown();
        }

        void awaitStarted() throws InterruptedException {
            assertTrue(started.await(5, TimeUnit.SECONDS), name + " never started");
        }

        @Override
        public void run() {
            log.add(name);
            started.countDown();
            try {
                release.await(Duration.ofSeconds(30).toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
