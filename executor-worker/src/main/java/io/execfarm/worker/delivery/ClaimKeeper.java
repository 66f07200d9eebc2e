package io.execfarm.worker.delivery;

import io.execfarm.worker.config.WorkerConfig;
import io.execfarm.worker.config.WorkerId;
import io.execfarm.worker.threads.DaemonThreads;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Duration;
import java.util.Map;
import java.util.OptionalInt;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * The claims this worker holds on requests ({@link RequestLedger}), one per delivery it runs.
 *
 * <p>A claim is renewed every quarter of {@code claim-ttl} while its request runs, and confirmed
 * before the request's result is stored: a claim last renewed more than half a TTL ago (Redis was
 * away) is renewed, or taken back if it lapsed and nobody else took it, before the result counts.
 * A delivery that finds its claim taken over stores and publishes nothing; the delivery that took
 * it answers. Together with the takeover grace of {@link RequestLedger}, a worker that stalls with
 * Redis and comes back with it keeps its requests, and a request is answered once.
 */
@ApplicationScoped
public class ClaimKeeper {

    private static final Logger LOG = Logger.getLogger(ClaimKeeper.class);
    private static final Duration CLAIM_POLL = Duration.ofMillis(200);

    /** A claim as this worker knows it: its holder token, and when its last renewal was sent. */
    private record Held(String holder, long renewedAtNanos) {
    }

    /** A delivery that holds its request: its holder token, and what Redis said when it was claimed. */
    public record Claimed(String holder, RequestLedger.Delivery delivery) {
    }

    private final RequestLedger ledger;
    private final Retries retries;
    private final Duration ttl;
    private final String workerId;
    private final ConcurrentMap<String, Held> held = new ConcurrentHashMap<>();
    private final ScheduledExecutorService renewer =
            Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("execfarm-claim-renewer"));

    public ClaimKeeper(RequestLedger ledger, Retries retries, WorkerConfig config, WorkerId workerId) {
        this.ledger = ledger;
        this.retries = retries;
        this.ttl = config.claimTtl();
        this.workerId = workerId.value();
    }

    void start(@Observes StartupEvent event) {
        long every = ttl.toMillis() / 4;
        renewer.scheduleWithFixedDelay(this::renewAll, every, every, TimeUnit.MILLISECONDS);
    }

    void stop(@Observes ShutdownEvent event) {
        renewer.shutdownNow();
    }

    /**
     * Counts a delivery of the request and claims it for a new holder token, waiting while another
     * delivery holds it (another worker's, or this worker's own when a rebalance moved the partition
     * between its consumers): that one either finishes the request or its claim lapses.
     *
     * @param deliveryCount the broker's count of this delivery, where it counts them; else Redis counts it
     * @throws Retries.GaveUp when Redis stays away past the retry budget
     */
    public Claimed claim(String requestId, OptionalInt deliveryCount) {
        String holder = workerId + "/" + UUID.randomUUID();
        long sentAt = System.nanoTime();
        RequestLedger.Delivery delivery = retries.call("counting a delivery of " + requestId + " and claiming it",
                () -> deliveryCount.isPresent() ? ledger.deliver(requestId, holder, ttl, deliveryCount.getAsInt())
                        : ledger.deliver(requestId, holder, ttl));
        int attempt = delivery.attempt();
        while (!delivery.claimed()) {
            try {
                Thread.sleep(CLAIM_POLL.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for the claim on " + requestId, e);
            }
            sentAt = System.nanoTime();
            delivery = retries.call("claiming " + requestId, () -> ledger.claimAgain(requestId, holder, ttl));
        }
        held.put(requestId, new Held(holder, sentAt));
        return new Claimed(holder, new RequestLedger.Delivery(attempt, true, delivery.result(), delivery.published(),
                delivery.cancelled()));
    }

    /**
     * Whether {@code holder} still holds the request, renewing the claim first when its last
     * renewal is half a TTL old. False when another delivery took the request over: this one must
     * then store and publish nothing.
     *
     * @throws Retries.GaveUp when Redis stays away past the retry budget
     */
    public boolean confirm(String requestId, String holder) {
        Held claim = held.get(requestId);
        if (claim == null || !claim.holder().equals(holder)) {
            return false;
        }
        if (System.nanoTime() - claim.renewedAtNanos() < ttl.toNanos() / 2) {
            return true;
        }
        long sentAt = System.nanoTime();
        boolean holds = retries.call("confirming the claim on " + requestId, () -> ledger.renew(requestId, holder, ttl));
        if (holds) {
            held.replace(requestId, claim, new Held(holder, sentAt));
        } else {
            held.remove(requestId, claim);
            LOG.warnf("%s was taken over by another delivery while Redis was away from this worker; "
                    + "that delivery answers it", requestId);
        }
        return holds;
    }

    public boolean holds(String requestId, String holder) {
        Held claim = held.get(requestId);
        return claim != null && claim.holder().equals(holder);
    }

    /**
     * Marks the result published, when it is, and releases the claim: one round trip. Where Redis
     * stays away, the claim lapses by itself and a redelivery publishes the stored result again.
     */
    public void finish(String requestId, String holder, boolean published) {
        held.computeIfPresent(requestId, (id, claim) -> claim.holder().equals(holder) ? null : claim);
        try {
            retries.run((published ? "marking " + requestId + " published and releasing its claim"
                    : "releasing the claim on " + requestId), () -> ledger.finish(requestId, holder, published, ttl));
        } catch (Retries.GaveUp e) {
            LOG.errorf("%s", e.getMessage());
        }
    }

    private void renewAll() {
        for (Map.Entry<String, Held> entry : Map.copyOf(held).entrySet()) {
            String requestId = entry.getKey();
            Held claim = entry.getValue();
            if (!claim.equals(held.get(requestId))) {
                continue;
            }
            long sentAt = System.nanoTime();
            try {
                if (ledger.renew(requestId, claim.holder(), ttl)) {
                    held.replace(requestId, claim, new Held(claim.holder(), sentAt));
                } else if (claim.equals(held.get(requestId))) {
                    // Not released meanwhile: the request is another delivery's now; confirm() says so to its run.
                    LOG.warnf("the claim on %s was taken over by another delivery", requestId);
                }
            } catch (RuntimeException e) {
                // Redis is away: the rest would wait out the same timeout; the next round tries again.
                LOG.warnf("could not renew claims: %s", e.getMessage());
                return;
            }
        }
    }
}
