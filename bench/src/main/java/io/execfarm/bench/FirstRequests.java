package io.execfarm.bench;

import io.execfarm.farm.DispatcherClient;
import org.HdrHistogram.Histogram;

/**
 * What a newcomer sees first: trivial HTTP requests, one at a time, on a farm that has just come
 * up (after the warm-up that {@code ./farm up} itself sends), before anything else ran on it.
 */
record FirstRequests(int requests, double p50) {

    static FirstRequests measure(DispatcherClient http, int requests, Progress progress) throws Exception {
        Progress.Counter counter = progress.count("the first " + requests + " HTTP requests on the new farm", requests);
        Histogram latency = LatencyBenchmark.Level.histogram();
        for (int i = 0; i < requests; i++) {
            latency.recordValue(HttpCall.run(http, "python", LatencyBenchmark.TRIVIAL).requireOk().latencyMicros());
            counter.tick();
        }
        double p50 = latency.getValueAtPercentile(50) / 1000.0;
        counter.end(String.format("p50 %.1f ms", p50));
        return new FirstRequests(requests, p50);
    }
}
