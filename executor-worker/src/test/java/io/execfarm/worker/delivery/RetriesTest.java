package io.execfarm.worker.delivery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.VertxException;
import io.vertx.redis.client.impl.types.ErrorType;
import java.net.ConnectException;
import java.time.Duration;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.junit.jupiter.api.Test;

class RetriesTest {

    private final Retries retries = new Retries(Duration.ofMillis(5), Duration.ofMillis(20), Duration.ofMillis(300));

    @Test
    void aTransientFailureIsRetriedUntilTheOperationSucceeds() {
        AtomicInteger calls = new AtomicInteger();
        String answer = retries.call("reading", () -> {
            if (calls.incrementAndGet() < 3) {
                throw new CompletionException(new ConnectException("Connection refused"));
            }
            return "done";
        });
        assertEquals("done", answer);
        assertEquals(3, calls.get());
    }

    @Test
    void aPermanentFailureIsNotRetried() {
        AtomicInteger calls = new AtomicInteger();
        Retries.GaveUp gaveUp = assertThrows(Retries.GaveUp.class, () -> retries.run("publishing", () -> {
            calls.incrementAndGet();
            throw new RecordTooLargeException("too large for the topic");
        }));
        assertEquals(1, calls.get());
        assertTrue(gaveUp.getMessage().startsWith("publishing failed: ") && gaveUp.getMessage().contains("too large"),
                gaveUp.getMessage());
    }

    @Test
    void aTransientFailureThatOutlastsTheBudgetGivesUp() {
        AtomicInteger calls = new AtomicInteger();
        Retries.GaveUp gaveUp = assertThrows(Retries.GaveUp.class, () -> retries.run("claiming", () -> {
            calls.incrementAndGet();
            throw new TimeoutException("broker away");
        }));
        assertTrue(calls.get() > 2, "retried " + calls.get() + " times");
        assertTrue(gaveUp.getMessage().contains("still failing after"), gaveUp.getMessage());
    }

    @Test
    void failuresThatMayPassAreToldFromThoseThatWillNot() {
        assertTrue(TransientFailures.isTransient(new TimeoutException("metadata")));
        assertTrue(TransientFailures.isTransient(new CompletionException(new ConnectException("refused"))));
        assertTrue(TransientFailures.isTransient(new io.smallrye.mutiny.TimeoutException()));
        assertTrue(TransientFailures.isTransient(new VertxException("Connection was closed")));
        assertTrue(TransientFailures.isTransient(new CompletionException(
                ErrorType.create("LOADING Redis is loading the dataset in memory"))));
        assertTrue(TransientFailures.isTransient(ErrorType.create("READONLY You can't write against a read only replica.")));
        // What the Redis client fails a command with when Redis dies under it (seen in ./farm chaos).
        assertTrue(TransientFailures.isTransient(new CompletionException(ErrorType.create("CONNECTION_CLOSED"))));
        assertTrue(TransientFailures.isTransient(new CompletionException(
                new io.vertx.core.impl.NoStackTraceThrowable("Connection is closed"))));

        assertFalse(TransientFailures.isTransient(new RecordTooLargeException("too large")));
        assertFalse(TransientFailures.isTransient(new TopicAuthorizationException("not allowed")));
        assertFalse(TransientFailures.isTransient(new CompletionException(
                ErrorType.create("ERR Error running script (call to f_x): @user_script:1: WRONGTYPE"))));
        assertFalse(TransientFailures.isTransient(new IllegalStateException("a bug")));
    }
}
