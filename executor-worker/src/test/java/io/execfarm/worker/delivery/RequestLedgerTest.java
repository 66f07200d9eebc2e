package io.execfarm.worker.delivery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.execfarm.contracts.Result;
import io.execfarm.localinfra.LocalInfraTestResource;
import io.quarkus.redis.datasource.RedisDataSource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The ledger's scripts against a real Redis: one round trip each side of a run, claims kept by their holder. */
@QuarkusTest
@QuarkusTestResource(LocalInfraTestResource.class)
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
        assertTrue(redis.key().pttl("execfarm:claim:" + id) > 0, "the claim lapses if its holder dies");
    }

    @Test
    void aSecondDeliveryIsCountedButWaitsWhileAnotherHoldsTheClaimAndItsHolderMayClaimAgain() {
        String id = UUID.randomUUID().toString();
        ledger.deliver(id, "a", CLAIM);

        RequestLedger.Delivery second = ledger.deliver(id, "b", CLAIM);
        assertEquals(2, second.attempt());
        assertFalse(second.claimed());
        assertTrue(ledger.deliver(id, "a", CLAIM).claimed(), "a retried call of the holder's own");

        ledger.finish(id, "a", false);
        RequestLedger.Delivery taken = ledger.claimAgain(id, "b", CLAIM);
        assertTrue(taken.claimed());
        assertEquals(0, taken.attempt(), "claiming again counts no new delivery");
        assertEquals("3", redis.value(String.class).get("execfarm:attempts:" + id));
    }

    @Test
    void onlyTheHolderRenewsOrReleasesAClaim() {
        String id = UUID.randomUUID().toString();
        ledger.deliver(id, "b", Duration.ofSeconds(5));

        ledger.finish(id, "a", false);
        ledger.renewClaims(Map.of(id, "a"), Duration.ofMinutes(10));
        assertEquals("b", claimHolder(id), "a delivery whose claim lapsed cannot end the claim that took over");
        assertTrue(redis.key().pttl("execfarm:claim:" + id) <= 5000, "nor extend it");

        ledger.renewClaims(Map.of(id, "b"), Duration.ofMinutes(10));
        assertTrue(redis.key().pttl("execfarm:claim:" + id) > 5000, "its holder extends it");
        ledger.finish(id, "b", true);
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

        ledger.finish(id, "a", true);
        assertTrue(ledger.deliver(id, "b", CLAIM).published());
    }

    private String claimHolder(String id) {
        return redis.value(String.class).get("execfarm:claim:" + id);
    }
}
