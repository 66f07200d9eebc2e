package io.execfarm.dispatcher.events;

import java.time.Instant;

/**
 * What the dispatcher remembers of a submitted execution, in Redis, for every instance.
 *
 * @param traceparent the W3C trace context the execution was submitted in, or null where nothing
 *                    is traced: the delivery and cancel spans of any instance join that trace
 */
public record ExecutionRecord(String id, String tenant, String runtime, String session, long timeoutMs,
        Instant submittedAt, String traceparent) {
}
