package io.execfarm.bench;

import io.execfarm.contracts.Topics;
import io.execfarm.farm.LocalFarm;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;

/**
 * The consumer group against the share group, side by side on farms alike: request topics of
 * {@link #PARTITIONS} partitions and workers of one Python process each, so one consumer per worker
 * in each group. Jobs are bound by waiting ({@link #JOB}), so the machine's two cores are not what
 * limits them.
 *
 * <ul>
 *   <li>Throughput on {@link #WORKERS} workers, twice as many consumers as partitions: a backlog on
 *       the partition-ordered topic (consumer group), then one on the shared topic (share group),
 *       on the same four workers. Efficiency is the throughput over what the consumers could do
 *       if none waited: consumers / job length. A consumer group is capped at partitions / consumers.
 *   <li>Takeover: one worker drains a backlog, a second starts; when it takes its first job and
 *       when its full share (half), counted from its start. A consumer group must first rebalance
 *       to give it a partition; a share group gives it records as soon as its consumer polls,
 *       which it does once its process is warm (its readiness).
 * </ul>
 * The share-group takeover runs on a farm of its own started afresh, since the first farm's share
 * group already has all its workers.
 */
final class ShareGroupBenchmark {

    static final int PARTITIONS = 2;
    static final int WORKERS = 4;
    static final String JOB = "import time\ntime.sleep(0.2)";
    static final double JOB_SECONDS = 0.2;

    /** How the workers took the requests: a consumer group, or a share group. */
    enum Mode {
        CONSUMER_GROUP("consumer group", "execfarm.requests.python"),
        SHARE_GROUP("share group", Topics.sharedRequests("python"));

        final String label;
        final String topic;

        Mode(String label, String topic) {
            this.label = label;
            this.topic = topic;
        }
    }

    /** A backlog of {@code jobs} drained by {@code consumers} consumers in {@code mode}. */
    record Throughput(Mode mode, int consumers, int jobs, double seconds, Map<String, Long> perWorker) {

        double perSecond() {
            return jobs / seconds;
        }

        /** Throughput over the consumers' own: each could finish one job per job length. */
        double efficiency() {
            return perSecond() / (consumers / JOB_SECONDS);
        }
    }

    /**
     * A worker started under a backlog one worker was draining. Times are seconds after its start;
     * {@code share} is empty when the backlog ran out before it took half of the jobs finishing.
     */
    record Takeover(Mode mode, String worker, int jobs, double ready, OptionalDouble firstResult,
            OptionalDouble share) {

        /** From readiness (a warm process, and the share consumer polling) to its first result. */
        OptionalDouble firstAfterReady() {
            return firstResult.isPresent() ? OptionalDouble.of(firstResult.getAsDouble() - ready) : OptionalDouble.empty();
        }
    }

    record Results(int partitions, int workers, List<Throughput> throughputs, List<Takeover> takeovers) {

        Throughput throughput(Mode mode) {
            return throughputs.stream().filter(t -> t.mode() == mode).findFirst().orElseThrow();
        }

        Takeover takeover(Mode mode) {
            return takeovers.stream().filter(t -> t.mode() == mode).findFirst().orElseThrow();
        }
    }

    private final LocalFarm farm;
    private final Progress progress;

    ShareGroupBenchmark(LocalFarm farm, Progress progress) {
        this.farm = farm;
        this.progress = progress;
    }

    /** Leaves the farm down. */
    Results run(Map<String, String> workerSettings, Plan plan) throws Exception {
        Map<String, String> settings = new HashMap<>(workerSettings);
        settings.put("EXECFARM_JULIA", "false");
        settings.put("EXECFARM_WORKER_RUNTIME_PYTHON_POOL_SIZE", "1");
        settings.put("EXECFARM_WORKER_RUNTIME_PYTHON_POOL_MIN_IDLE", "1");
        settings.put("EXECFARM_WORKER_TOPICS_PARTITIONS", Integer.toString(PARTITIONS));
        settings.put("EXECFARM_WORKER_SHARED_REQUESTS_PARTITIONS", Integer.toString(PARTITIONS));
        List<Throughput> throughputs = new ArrayList<>();
        List<Takeover> takeovers = new ArrayList<>();

        progress.say("share groups: a farm of 1 worker of one process, request topics of " + PARTITIONS + " partitions");
        farm.down();
        farm.up(1, settings, Map.of(), LocalFarm.Warm.POOLS);
        try (BenchClient kafka = new BenchClient(farm.env().get("KAFKA_BOOTSTRAP"))) {
            takeovers.add(takeover(kafka, Mode.CONSUMER_GROUP, plan.shareTakeoverJobs(), settings));
            grow(WORKERS, settings);
            for (Mode mode : Mode.values()) {
                throughputs.add(throughput(kafka, mode, plan.shareJobs()));
            }
        }
        progress.say("share groups: a fresh farm of 1 worker, for the share group's takeover");
        farm.down();
        farm.up(1, settings, Map.of(), LocalFarm.Warm.POOLS);
        try (BenchClient kafka = new BenchClient(farm.env().get("KAFKA_BOOTSTRAP"))) {
            takeovers.add(takeover(kafka, Mode.SHARE_GROUP, plan.shareTakeoverJobs(), settings));
        }
        farm.down();
        return new Results(PARTITIONS, WORKERS, throughputs, takeovers);
    }

    private Throughput throughput(BenchClient kafka, Mode mode, int jobs) throws Exception {
        Progress.Counter counter = progress.count(WORKERS + " workers, " + mode.label + ": a backlog of " + jobs
                + " jobs of " + (int) (JOB_SECONDS * 1000) + " ms", jobs);
        long start = System.nanoTime();
        List<Reply> replies = ScalingBenchmark.drain(backlog(kafka, mode, jobs), counter);
        double seconds = (replies.stream().mapToLong(Reply::receivedNanos).max().orElseThrow() - start) / 1e9;
        Map<String, Long> perWorker = replies.stream()
                .collect(Collectors.groupingBy(Reply::workerId, TreeMap::new, Collectors.counting()));
        Throughput throughput = new Throughput(mode, WORKERS, jobs, seconds, perWorker);
        counter.end(String.format("%.1f jobs/s, %.0f%% efficient (%s)", throughput.perSecond(),
                100 * throughput.efficiency(), perWorker));
        return throughput;
    }

    private Takeover takeover(BenchClient kafka, Mode mode, int jobs, Map<String, String> settings) throws Exception {
        List<CompletableFuture<Reply>> backlog = backlog(kafka, mode, jobs);
        long start = System.nanoTime();
        String worker = farm.addWorker(settings);
        progress.say(mode.label + ": published a backlog of " + jobs + " jobs to 1 worker and started " + worker);
        farm.awaitReady(worker);
        double ready = (System.nanoTime() - start) / 1e9;
        Progress.Counter counter = progress.count("draining the backlog", jobs);
        List<Reply> byCompletion = ScalingBenchmark.drain(backlog, counter).stream()
                .sorted(Comparator.comparingLong(Reply::receivedNanos)).toList();
        OptionalDouble first = byCompletion.stream().filter(r -> r.workerId().equals(worker))
                .mapToDouble(r -> (r.receivedNanos() - start) / 1e9).findFirst();
        OptionalDouble share = ScalingBenchmark.shareTaken(byCompletion, worker, 0.5, start);
        counter.end(String.format("%s ready after %.1f s, first result after %s, its share after %s", worker, ready,
                ScalingBenchmark.seconds(first), ScalingBenchmark.seconds(share)));
        farm.awaitWarm();
        farm.awaitSettled();
        return new Takeover(mode, worker, jobs, ready, first, share);
    }

    private void grow(int workers, Map<String, String> settings) throws Exception {
        List<String> started = new ArrayList<>();
        while (farm.liveWorkers().size() + started.size() < workers) {
            started.add(farm.addWorker(settings));
        }
        progress.say("starting " + String.join(", ", started));
        for (String worker : started) {
            farm.awaitReady(worker);
        }
        farm.awaitWarm();
        farm.awaitSettled();
    }

    /** Jobs sent to the partitions in turn, as a producer with evenly spread keys would send them. */
    private static List<CompletableFuture<Reply>> backlog(BenchClient kafka, Mode mode, int jobs) {
        int partitions = kafka.partitionsOf(mode.topic);
        List<CompletableFuture<Reply>> backlog = new ArrayList<>();
        for (int j = 0; j < jobs; j++) {
            int partition = j % partitions;
            backlog.add(mode == Mode.SHARE_GROUP ? kafka.submitShared("python", JOB, partition)
                    : kafka.submit("python", JOB, partition));
        }
        return backlog;
    }
}
