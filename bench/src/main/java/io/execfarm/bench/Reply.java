package io.execfarm.bench;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * One request's result event as a client received it, with the client's clocks at sending and at
 * receiving: the monotonic one for latency, the wall one to line up with the worker's timings
 * (same machine, same clock).
 *
 * @param acceptedMillis when the farm took the request, the instant its {@code queuedMs} counts
 *     from: the record's timestamp (set when the client sent it) through Kafka, the dispatcher's
 *     {@code submittedAt} through HTTP
 */
record Reply(JsonNode result, long sentNanos, long sentMillis, long acceptedMillis, long receivedNanos,
        long receivedMillis) {

    long latencyMicros() {
        return (receivedNanos - sentNanos) / 1000;
    }

    String status() {
        return result.path("status").asText();
    }

    String workerId() {
        return result.path("workerId").asText();
    }

    long timing(String name) {
        return result.path("timings").path(name).asLong();
    }

    Reply requireOk() {
        if (!"ok".equals(status())) {
            throw new IllegalStateException("a benchmark request did not succeed: " + result);
        }
        return this;
    }
}
