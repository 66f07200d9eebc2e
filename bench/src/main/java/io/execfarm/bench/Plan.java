package io.execfarm.bench;

import java.util.List;

/**
 * How much work each part of {@code ./farm bench} does. The full plan gives stable percentiles on
 * this machine in about ten minutes; the quick one only proves every part still works.
 *
 * @param latencyRequests requests per concurrency level, for each of {@link #concurrencies}
 * @param scalingWorkers the worker counts whose throughput is measured, in the order the farm grows
 * @param jobsPerPartition sleep-bound jobs per request partition in each throughput measurement
 * @param takeoverJobsPerPartition jobs per partition in the backlog a new worker joins
 * @param scalingWarmUp trivial requests per worker before each throughput measurement
 * @param juliaPool Julia processes per worker (the worker's own default is 4)
 * @param warmColdRepeats requests per snippet through the farm, and fresh processes per snippet
 * @param tracingRounds pairs of farms, tracing off then exporting, whose cost is compared
 * @param shareJobs jobs in each backlog of the consumer group against share group throughput
 * @param shareTakeoverJobs jobs in the backlog a new worker joins, in each group
 * @param smoke a plan that proves every part runs and measures nothing: parts overlap and share
 *              farms where that saves minutes (the Julia image builds while the later parts run,
 *              tracing's "off" runs on the farm already up and its "exporting" on the share groups'
 *              farm, the share groups grow to two workers, not four, and shrink back to one for the
 *              share group's takeover), at the cost of every figure taken meanwhile
 */
record Plan(String name, List<Integer> concurrencies, List<Integer> latencyRequests, int warmUpRequests,
        List<Integer> scalingWorkers, int scalingWarmUp, int jobsPerPartition, int takeoverJobsPerPartition,
        int juliaPool, int warmColdRepeats,
        int tracingRounds, int shareJobs, int shareTakeoverJobs, boolean smoke) {

    /** Python processes per worker: 24 partitions split evenly over 3, 6 and 12 consumers. */
    static final int POOL = 3;

    static final Plan FULL = new Plan("full", List.of(1, 10, 50), List.of(1000, 2000, 4000), 3000,
            List.of(1, 2, 4), 400, 24, 30, 4, 20, 2, 200, 150, false);
    static final Plan QUICK = new Plan("quick", List.of(1, 10, 50), List.of(30, 60, 150), 100,
            List.of(1, 2), 40, 2, 4, 2, 1, 1, 40, 60, true);

    int highestConcurrency() {
        return concurrencies.get(concurrencies.size() - 1);
    }

    int requestsAt(int concurrency) {
        return latencyRequests.get(concurrencies.indexOf(concurrency));
    }
}
