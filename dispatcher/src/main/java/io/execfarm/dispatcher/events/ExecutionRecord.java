package io.execfarm.dispatcher.events;

import java.time.Instant;

/** What the dispatcher remembers of a submitted execution, in Redis, for every instance. */
public record ExecutionRecord(String id, String tenant, String runtime, String session, long timeoutMs,
        Instant submittedAt) {
}
