package io.execfarm.worker.delivery;

import io.execfarm.contracts.RedisKeys;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.execfarm.contracts.Result;
import io.execfarm.localinfra.TestInfraResource;
import io.quarkus.redis.datasource.RedisDataSource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The ledger's scripts against a real Redis: one round trip each side of a run, claims kept by their holder. */
@QuarkusTest
@QuarkusTestResource(TestInfraResource.AsWorker.class)
class RequestLedgerTest {

    private static final Duration CLAIM = Duration.ofSeconds(30);

    @Inject
    RequestLedger ledger;

    @Inject
    RedisDataSource redis;

    @Test
    void aFirstDeliveryIsCountedAndClaimedAndFindsNothingBefore() {
        String id = UUID.randomUUID().toString();

        RequestLedger.Delivery delivery = ledger.deliver(id, "a", CLAIM);

        assertEquals(new RequestLedger.Delivery(1, true, java.util.Optional.empty(), false, false), delivery);
        assertEquals("a", claimHolder(id));
        assertTrue(redis.key().pttl(RedisKeys.ofRequest("claim", id)) > 0, "the claim lapses if its holder dies");
    }

    @Test
    void aSecondDeliveryIsCountedButWaitsWhileAnotherHoldsTheClaimAndItsHolderMayClaimAgain() {
        String id = UUID.randomUUID().toString();
        ledger.deliver(id, "a", CLAIM);

        RequestLedger.Delivery second = ledger.deliver(id, "b", CLAIM);
        assertEquals(2, second.attempt());
        assertFalse(second.claimed());
        assertTrue(ledger.deliver(id, "a", CLAIM).claimed(), "a retried call of the holder's own");

        ledger.finish(id, "a", false, CLAIM);
        RequestLedger.Delivery taken = ledger.claimAgain(id, "b", CLAIM);
        assertTrue(taken.claimed());
        assertEquals(0, taken.attempt(), "claiming again counts no new delivery");
        assertEquals("3", redis.value(String.class).get(RedisKeys.ofRequest("attempts", id)));
    }

    @Test
    void onlyTheHolderRenewsOrReleasesAClaim() {
        String id = UUID.randomUUID().toString();
        ledger.deliver(id, "b", Duration.ofSeconds(5));

        ledger.finish(id, "a", false, CLAIM);
        assertFalse(ledger.renew(id, "a", Duration.ofMinutes(10)));
        assertEquals("b", claimHolder(id), "a delivery whose claim lapsed cannot end the claim that took over");
        assertTrue(redis.key().pttl(RedisKeys.ofRequest("claim", id)) <= 5000, "nor extend it");

        assertTrue(ledger.renew(id, "b", Duration.ofMinutes(10)));
        assertTrue(redis.key().pttl(RedisKeys.ofRequest("claim", id)) > 5000, "its holder extends it");
        ledger.finish(id, "b", true, CLAIM);
        assertNull(claimHolder(id));
    }

    @Test
    void aDeliveryOfAFinishedRequestFindsItsResultAndWhetherItWasPublishedOrCancelled() {
        String id = UUID.randomUUID().toString();
        ledger.deliver(id, "a", CLAIM);
        ledger.markCancelled(id);
        Result result = Result.rejected(id, "w", "Cancelled", "cancelled");
        ledger.storeResult(result);

        RequestLedger.Delivery unpublished = ledger.deliver(id, "a", CLAIM);
        assertEquals(result, unpublished.result().orElseThrow());
        assertFalse(unpublished.published());
        assertTrue(unpublished.cancelled());

        ledger.finish(id, "a", true, CLAIM);
        assertTrue(ledger.deliver(id, "b", CLAIM).published());
    }

    @Test
    void aLapsedClaimIsTakenOverOnlyAfterTheGraceSoALiveHolderTakesItBackFirst() {
        String id = UUID.randomUUID().toString();
        Duration ttl = Duration.ofMillis(400);
        ledger.deliver(id, "a", ttl);
        await().atMost(Duration.ofSeconds(10)).until(() -> claimHolder(id) == null);

        assertFalse(ledger.deliver(id, "b", ttl).claimed(), "a lapsed claim is not taken at once");
        assertTrue(ledger.renew(id, "a", ttl), "its holder, alive after all, takes it back");
        assertEquals("a", claimHolder(id));
        assertFalse(ledger.claimAgain(id, "b", ttl).claimed());
    }

    @Test
    void aLapsedClaimWhoseHolderStaysAwayIsTakenOverAfterTheGrace() {
        String id = UUID.randomUUID().toString();
        Duration ttl = Duration.ofMillis(400);
        ledger.deliver(id, "a", ttl);
        await().atMost(Duration.ofSeconds(10)).until(() -> claimHolder(id) == null);

        assertFalse(ledger.deliver(id, "b", ttl).claimed());
        await().atMost(Duration.ofSeconds(10)).until(() -> ledger.claimAgain(id, "b", ttl).claimed());
        assertEquals("b", claimHolder(id));
        assertFalse(ledger.renew(id, "a", ttl), "the old holder learns it lost the request");
        assertEquals("b", claimHolder(id));
    }

    @Test
    void aClaimReleasedWithoutAResultOrOfAnAnsweredRequestIsTakenAtOnce() {
        String released = UUID.randomUUID().toString();
        ledger.deliver(released, "a", CLAIM);
        ledger.finish(released, "a", false, CLAIM);
        assertTrue(ledger.deliver(released, "b", CLAIM).claimed());

        String answered = UUID.randomUUID().toString();
        ledger.deliver(answered, "a", CLAIM);
        ledger.storeResult(Result.rejected(answered, "w", "X", "x"));
        redis.key().del(RedisKeys.ofRequest("claim", answered));
        assertTrue(ledger.deliver(answered, "b", CLAIM).result().isPresent());
        assertFalse(ledger.renew(answered, "a", CLAIM), "an answered request is not taken back");
    }

    /** ClaimKeeper renews from a snapshot of its claims: a renewal may reach Redis after the claim's release. */
    @Test
    void aRenewalArrivingAfterTheReleaseDoesNotBringTheClaimBack() {
        String released = UUID.randomUUID().toString();
        ledger.deliver(released, "a", CLAIM);
        ledger.finish(released, "a", false, CLAIM);
        assertFalse(ledger.renew(released, "a", CLAIM), "a released claim stays released");
        assertNull(claimHolder(released));
        assertTrue(ledger.deliver(released, "b", CLAIM).claimed(), "a redelivery takes the released request at once");

        String published = UUID.randomUUID().toString();
        ledger.deliver(published, "a", CLAIM);
        ledger.finish(published, "a", true, CLAIM);
        assertFalse(ledger.renew(published, "a", CLAIM), "nor is the claim of a published request, stored or not");
        assertNull(claimHolder(published));
    }

    private String claimHolder(String id) {
        return redis.value(String.class).get(RedisKeys.ofRequest("claim", id));
    }
}
