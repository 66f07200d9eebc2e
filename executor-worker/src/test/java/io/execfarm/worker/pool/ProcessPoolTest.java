package io.execfarm.worker.pool;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.execfarm.worker.pool.FakeProcessSource.Proc;
import java.time.Duration;
import java.util.Optional;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The pool's scheduling logic, on fake processes. */
class ProcessPoolTest {

    private static final Duration WAIT = Duration.ofSeconds(10);

    private final FakeProcessSource source = new FakeProcessSource();
    private ProcessPool<Proc> pool;

    @AfterEach
    void close() {
        if (pool != null) {
            pool.close();
        }
    }

    private ProcessPool<Proc> open(int size, int minIdle, int maxExecutions, long maxResident, ReusePolicy reuse) {
        pool = new ProcessPool<>("fake", new PoolSettings(size, minIdle, 2, maxExecutions, maxResident, reuse), source);
        pool.open();
        return pool;
    }

    private void awaitIdle(int idle) {
        await().atMost(WAIT).until(() -> pool.stats().idle() == idle && pool.stats().starting() == 0);
    }

    @Test
    void preStartsTheMinimumOfIdleProcessesAtOpen() {
        open(4, 2, 100, 0, ReusePolicy.TENANT);
        awaitIdle(2);
        assertEquals(2, pool.stats().started());
    }

    @Test
    void keepsTheMinimumIdleAfterAnAcquire() throws Exception {
        open(4, 2, 100, 0, ReusePolicy.TENANT);
        awaitIdle(2);
        Lease<Proc> lease = pool.acquire("a", WAIT);
        awaitIdle(2);
        assertEquals(1, pool.stats().busy());
        pool.release(lease, true);
        awaitIdle(3);
    }

    @Test
    void anAcquireNeverWaitsForARefillItCanAvoid() throws Exception {
        open(4, 2, 100, 0, ReusePolicy.TENANT);
        awaitIdle(2);
        source.startPermits.drainPermits();
        // Starts now block forever; the two warm processes must still be handed out.
        Lease<Proc> first = pool.acquire("a", Duration.ofSeconds(2));
        Lease<Proc> second = pool.acquire("a", Duration.ofSeconds(2));
        assertNotSame(first.process(), second.process());
        assertTrue(pool.stats().starting() > 0, "refills were started in the background");
        source.startPermits.release(100);
    }

    @Test
    void aWaitingAcquireTakesBackALeaseHeldUnusedElsewhereOneAtATime() throws Exception {
        open(2, 2, 100, 0, ReusePolicy.TENANT);
        awaitIdle(2);
        // Two leases held by something that does not use them now, like the processes of idle sessions.
        List<Lease<Proc>> heldUnused = new ArrayList<>(List.of(pool.acquire("a", WAIT), pool.acquire("b", WAIT)));
        List<Proc> reclaimedProcesses = new ArrayList<>();
        pool.reclaimFrom(() -> {
            if (heldUnused.isEmpty()) {
                return null;
            }
            Lease<Proc> lease = heldUnused.remove(0);
            reclaimedProcesses.add(lease.process());
            return lease;
        });

        Lease<Proc> lease = pool.acquire("c", WAIT);
        assertEquals(1, reclaimedProcesses.size(), "one waiter takes back one lease, not every one");
        assertFalse(reclaimedProcesses.contains(lease.process()), "the taken-back process ran other code: it is retired");
        assertTrue(source.disposed().contains(reclaimedProcesses.get(0)));
        assertEquals(2, pool.stats().busy(), "the other held lease and the new one");
    }

    @Test
    void withNothingToTakeBackAWaitingAcquireTimesOut() throws Exception {
        open(1, 1, 100, 0, ReusePolicy.TENANT);
        awaitIdle(1);
        Lease<Proc> held = pool.acquire("a", WAIT);
        pool.reclaimFrom(() -> null);
        assertThrows(PoolTimeoutException.class, () -> pool.acquire("b", Duration.ofMillis(200)));
        pool.release(held, true);
    }

    @Test
    void tenantPolicyNeverHandsOneTenantsProcessToAnother() throws Exception {
        open(4, 1, 100, 0, ReusePolicy.TENANT);
        awaitIdle(1);
        Lease<Proc> a = pool.acquire("a", WAIT);
        Proc usedByA = a.process();
        pool.release(a, true);
        Lease<Proc> b = pool.acquire("b", WAIT);
        assertNotSame(usedByA, b.process(), "tenant b must get a fresh process");
        Lease<Proc> again = pool.acquire("a", WAIT);
        assertSame(usedByA, again.process(), "tenant a gets its warm process back");
        pool.release(b, true);
        pool.release(again, true);
    }

    @Test
    void alwaysPolicySharesProcessesAcrossTenants() throws Exception {
        open(1, 1, 100, 0, ReusePolicy.ALWAYS);
        awaitIdle(1);
        Lease<Proc> a = pool.acquire("a", WAIT);
        Proc process = a.process();
        pool.release(a, true);
        Lease<Proc> b = pool.acquire("b", WAIT);
        assertSame(process, b.process());
        pool.release(b, true);
    }

    @Test
    void neverPolicyRetiresEveryProcessAfterOneRequest() throws Exception {
        open(2, 1, 100, 0, ReusePolicy.NEVER);
        awaitIdle(1);
        Lease<Proc> a = pool.acquire("a", WAIT);
        Proc first = a.process();
        pool.release(a, true);
        Lease<Proc> next = pool.acquire("a", WAIT);
        assertNotSame(first, next.process());
        await().atMost(WAIT).until(() -> source.disposed().contains(first));
        pool.release(next, true);
    }

    @Test
    void whenEverySlotIsTakenTheColdestIdleProcessMakesRoomForAnotherTenant() throws Exception {
        open(1, 1, 100, 0, ReusePolicy.TENANT);
        awaitIdle(1);
        Lease<Proc> a = pool.acquire("a", WAIT);
        Proc usedByA = a.process();
        pool.release(a, true);
        Lease<Proc> b = pool.acquire("b", WAIT);
        assertNotSame(usedByA, b.process());
        assertTrue(source.disposed().contains(usedByA), "a's process was evicted");
        pool.release(b, true);
    }

    @Test
    void aProcessIsRetiredAfterItsMaximumOfExecutions() throws Exception {
        open(2, 1, 3, 0, ReusePolicy.ALWAYS);
        awaitIdle(1);
        Proc process = null;
        for (int i = 0; i < 3; i++) {
            Lease<Proc> lease = pool.acquire("a", WAIT);
            process = i == 0 ? lease.process() : process;
            assertSame(process, lease.process());
            pool.release(lease, true);
        }
        Proc worn = process;
        await().atMost(WAIT).until(() -> source.disposed().contains(worn));
    }

    @Test
    void aProcessThatGrewPastTheMemoryLimitIsRetired() throws Exception {
        open(2, 1, 100, 1000, ReusePolicy.ALWAYS);
        awaitIdle(1);
        Lease<Proc> lease = pool.acquire("a", WAIT);
        lease.process().resident = 5000;
        pool.release(lease, true);
        await().atMost(WAIT).until(() -> source.disposed().contains(lease.process()));
        awaitIdle(1);
    }

    @Test
    void aBrokenProcessIsReplaced() throws Exception {
        open(2, 1, 100, 0, ReusePolicy.ALWAYS);
        awaitIdle(1);
        Lease<Proc> lease = pool.acquire("a", WAIT);
        pool.release(lease, false);
        await().atMost(WAIT).until(() -> source.disposed().contains(lease.process()));
        awaitIdle(1);
        assertEquals(1, pool.stats().retired());
    }

    @Test
    void aProcessNotAtRestAfterItsRequestIsRetiredAndCountedWithItsReason() throws Exception {
        open(2, 1, 100, 0, ReusePolicy.ALWAYS);
        awaitIdle(1);
        Lease<Proc> lease = pool.acquire("a", WAIT);
        pool.release(lease, Optional.of(Retirement.TASKS_LEFT));
        await().atMost(WAIT).until(() -> source.disposed().contains(lease.process()));
        assertEquals(1, pool.stats().retiredFor(Retirement.TASKS_LEFT));
        Lease<Proc> next = pool.acquire("a", WAIT);
        assertNotSame(lease.process(), next.process());
        pool.release(next, true);
    }

    @Test
    void anIdleProcessFoundNotAtRestIsNeverHandedOut() throws Exception {
        open(2, 2, 100, 0, ReusePolicy.ALWAYS);
        awaitIdle(2);
        Lease<Proc> first = pool.acquire("a", WAIT);
        Lease<Proc> second = pool.acquire("a", WAIT);
        pool.release(second, true);
        pool.release(first, true);
        first.process().unfit = Retirement.IDLE_CPU;
        Lease<Proc> next = pool.acquire("a", WAIT);
        assertSame(second.process(), next.process(), "the most recently used one was unfit, so the other serves");
        assertEquals(1, pool.stats().retiredFor(Retirement.IDLE_CPU));
        await().atMost(WAIT).until(() -> source.disposed().contains(first.process()));
        pool.release(next, true);
    }

    @Test
    void anIdleProcessThatDiedIsSkippedAndReplaced() throws Exception {
        open(2, 1, 100, 0, ReusePolicy.ALWAYS);
        awaitIdle(1);
        Lease<Proc> lease = pool.acquire("a", WAIT);
        Proc process = lease.process();
        pool.release(lease, true);
        process.alive = false;
        Lease<Proc> next = pool.acquire("a", WAIT);
        assertNotSame(process, next.process());
        assertTrue(next.process().alive);
        pool.release(next, true);
    }

    @Test
    void acquireTimesOutWhenEveryProcessIsBusy() throws Exception {
        open(2, 2, 100, 0, ReusePolicy.ALWAYS);
        awaitIdle(2);
        Lease<Proc> a = pool.acquire("a", WAIT);
        Lease<Proc> b = pool.acquire("a", WAIT);
        PoolTimeoutException e = assertThrows(PoolTimeoutException.class,
                () -> pool.acquire("a", Duration.ofMillis(200)));
        assertTrue(e.getMessage().contains("no fake process became available within 200 ms"), e.getMessage());
        pool.release(a, true);
        pool.release(b, true);
    }

    @Test
    void aWaitingAcquireGetsTheNextReleasedProcess() throws Exception {
        open(1, 1, 100, 0, ReusePolicy.ALWAYS);
        awaitIdle(1);
        Lease<Proc> held = pool.acquire("a", WAIT);
        ExecutorService other = Executors.newSingleThreadExecutor();
        try {
            Future<Lease<Proc>> waiting = other.submit(() -> pool.acquire("a", WAIT));
            await().atMost(WAIT).until(() -> pool.stats().waiting() == 1);
            pool.release(held, true);
            Lease<Proc> got = waiting.get(10, TimeUnit.SECONDS);
            assertSame(held.process(), got.process());
            pool.release(got, true);
        } finally {
            other.shutdownNow();
        }
    }

    @Test
    void failingStartsAreReportedAndRetriedWithBackoff() throws Exception {
        source.failStarts = true;
        open(2, 1, 100, 0, ReusePolicy.ALWAYS);
        await().atMost(WAIT).until(() -> pool.stats().startFailures() >= 2);
        PoolTimeoutException e = assertThrows(PoolTimeoutException.class,
                () -> pool.acquire("a", Duration.ofMillis(300)));
        assertTrue(e.getMessage().contains("fake runtime refuses to start"), e.getMessage());
        // Backoff keeps retries from spinning: 250 ms after the first refusal, doubling after each.
        await().atMost(WAIT).until(() -> source.refusedAt.size() >= 4);
        List<Long> refused = List.copyOf(source.refusedAt);
        for (int i = 1; i < 4; i++) {
            long gapMs = TimeUnit.NANOSECONDS.toMillis(refused.get(i) - refused.get(i - 1));
            assertTrue(gapMs >= (250L << (i - 1)) - 20, "refusal " + i + " came " + gapMs + " ms after the one before");
        }
        source.failStarts = false;
        await().atMost(Duration.ofSeconds(40)).until(() -> pool.stats().idle() >= 1);
    }

    @Test
    void slotsAreNeverSharedAndTheSizeIsNeverExceeded() throws Exception {
        open(3, 3, 2, 0, ReusePolicy.TENANT);
        awaitIdle(3);
        ExecutorService clients = Executors.newFixedThreadPool(6);
        try {
            List<Future<?>> runs = new ArrayList<>();
            for (int c = 0; c < 6; c++) {
                String tenant = "t" + (c % 4);
                runs.add(clients.submit(() -> {
                    for (int i = 0; i < 30; i++) {
                        Lease<Proc> lease = pool.acquire(tenant, WAIT);
                        pool.release(lease, i % 7 != 0);
                    }
                    return null;
                }));
            }
            for (Future<?> run : runs) {
                run.get(60, TimeUnit.SECONDS);
            }
        } finally {
            clients.shutdownNow();
        }
        assertFalse(source.slotClash(), "two live processes shared a slot");
        assertTrue(source.maxAlive() <= 3, "alive at once: " + source.maxAlive());
    }
}
