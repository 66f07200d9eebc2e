package io.execfarm.worker.cancel;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.execfarm.worker.pool.CancelSignal;
import org.junit.jupiter.api.Test;

/** Cancel signals per delivery: two deliveries of one request on one worker. */
class CancelRegistryTest {

    private final CancelRegistry registry = new CancelRegistry();

    @Test
    void theEndOfOneDeliveryLeavesTheOtherCancellable() {
        CancelSignal first = registry.register("r1");
        CancelSignal second = registry.register("r1");
        assertNotSame(first, second, "each delivery has a signal of its own");

        registry.unregister("r1", first);
        registry.cancel("r1");

        assertTrue(second.isCancelled(), "the delivery still running is cancelled");
        assertFalse(first.isCancelled(), "the delivery that ended is left alone");
    }

    @Test
    void aCancelReachesEveryDeliveryOfTheRequestAndNoOther() {
        CancelSignal first = registry.register("r1");
        CancelSignal second = registry.register("r1");
        CancelSignal other = registry.register("r2");

        registry.cancel("r1");

        assertTrue(first.isCancelled());
        assertTrue(second.isCancelled());
        assertFalse(other.isCancelled());
    }

    @Test
    void aCancelAfterEveryDeliveryEndedReachesNothing() {
        CancelSignal only = registry.register("r1");
        registry.unregister("r1", only);
        registry.cancel("r1");
        assertFalse(only.isCancelled());
    }
}
