package io.execfarm.bench;

import java.util.List;
import java.util.function.ToLongFunction;

/**
 * Where a request's end-to-end time goes, from the timings in its result and the client's clock
 * (one machine, one clock; whole milliseconds, so the means are what to read).
 *
 * <ul>
 *   <li>{@code toFarm}: client to the farm taking the request (HTTP and the dispatcher; 0 through
 *       Kafka, whose record timestamp is the client's send);
 *   <li>{@code queued}: until a worker's consumer took the request from Kafka;
 *   <li>{@code bookkeeping}: the worker's own steps around the run (delivery count, claim, result
 *       lookup, cancel check, the {@code started} event);
 *   <li>{@code acquire}: waiting for a warm process;
 *   <li>{@code exec}: running the code;
 *   <li>{@code publish}: the result stored, published, acknowledged and read by the client (through
 *       HTTP: by the dispatcher, stored in Redis, and answered).
 * </ul>
 */
record Breakdown(String label, int requests, double toFarm, double queued, double bookkeeping, double acquire,
        double exec, double publish) {

    static final List<String> PARTS = List.of("to the farm", "queued", "worker bookkeeping", "acquire", "exec",
            "publish");

    static Breakdown of(LatencyBenchmark.Level level) {
        List<Reply> replies = level.run().replies();
        return new Breakdown(level.label(), replies.size(),
                mean(replies, r -> r.acceptedMillis() - r.sentMillis()),
                mean(replies, r -> r.timing("queuedMs")),
                mean(replies, r -> r.timing("totalMs") - r.timing("queuedMs") - r.timing("acquireMs")
                        - r.timing("execMs")),
                mean(replies, r -> r.timing("acquireMs")),
                mean(replies, r -> r.timing("execMs")),
                mean(replies, r -> r.receivedMillis() - r.acceptedMillis() - r.timing("totalMs")));
    }

    List<Double> parts() {
        return List.of(toFarm, queued, bookkeeping, acquire, exec, publish);
    }

    double total() {
        return parts().stream().mapToDouble(Double::doubleValue).sum();
    }

    private static double mean(List<Reply> replies, ToLongFunction<Reply> part) {
        return replies.stream().mapToLong(part).average().orElse(0);
    }
}
