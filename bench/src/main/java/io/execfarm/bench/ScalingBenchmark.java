package io.execfarm.bench;

import io.execfarm.farm.LocalFarm;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Throughput against the number of workers in one consumer group, on jobs bound by waiting
 * ({@code time.sleep(0.1)}), so the two cores of this machine are not what limits it; and how soon
 * a worker started during a backlog takes its share of it.
 *
 * <p>Jobs go to the request partitions in turn, as a producer with evenly spread keys would send
 * them: what is measured is the farm's scaling, not the luck of hashing random ids onto 24
 * partitions in a finite backlog.
 */
final class ScalingBenchmark {

    static final String SLEEP = "import time\ntime.sleep(0.1)";
    static final double JOB_SECONDS = 0.1;
    private static final long WINDOW_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final long STEP_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    /** A backlog of {@code jobs} drained by {@code workers} workers. */
    record Throughput(int workers, int jobs, double seconds, Map<String, Long> perWorker) {

        double perSecond() {
            return jobs / seconds;
        }
    }

    /**
     * A worker started while {@code workersBefore} workers drained a backlog. Times are seconds after
     * its start; {@code share} is empty when the backlog ran out before it took its share.
     */
    record Takeover(String worker, int workersBefore, int jobs, double ready, OptionalDouble firstResult,
            OptionalDouble share, List<Reply> replies, long startNanos) {
    }

    private final BenchClient kafka;
    private final LocalFarm farm;
    private final Progress progress;

    ScalingBenchmark(BenchClient kafka, LocalFarm farm, Progress progress) {
        this.kafka = kafka;
        this.farm = farm;
        this.progress = progress;
    }

    Throughput throughput(int workers, int jobsPerPartition, int warmUpPerWorker) throws Exception {
        // A worker started moments ago runs interpreted and compiling, which on two cores takes the
        // CPU the others need; these requests get every worker's request path compiled first.
        int warmUp = warmUpPerWorker * workers;
        Progress.Counter warming = progress.count("warming " + workers + " worker" + (workers == 1 ? "" : "s") + " with "
                + warmUp + " trivial requests", warmUp);
        ClosedLoop.run(20, warmUp, () -> kafka.submit("python", LatencyBenchmark.TRIVIAL, null)
                .get(60, TimeUnit.SECONDS), warming);
        warming.end("done");
        int jobs = jobsPerPartition * kafka.partitions("python");
        Progress.Counter counter = progress.count(workers + " worker" + (workers == 1 ? "" : "s") + ", a backlog of "
                + jobs + " jobs of 100 ms", jobs);
        long start = System.nanoTime();
        List<Reply> replies = drain(backlog(jobsPerPartition), counter);
        double seconds = (replies.stream().mapToLong(Reply::receivedNanos).max().orElseThrow() - start) / 1e9;
        Map<String, Long> perWorker = replies.stream()
                .collect(Collectors.groupingBy(Reply::workerId, TreeMap::new, Collectors.counting()));
        Throughput throughput = new Throughput(workers, jobs, seconds, perWorker);
        counter.end(String.format("%.1f jobs/s (%s)", throughput.perSecond(), perWorker));
        return throughput;
    }

    /**
     * Publishes a backlog, starts one more worker, and follows which worker finishes each job until
     * the backlog is drained; then waits for the grown farm to settle.
     */
    Takeover takeover(int workersBefore, int jobsPerPartition, Map<String, String> workerSettings) throws Exception {
        int jobs = jobsPerPartition * kafka.partitions("python");
        List<CompletableFuture<Reply>> backlog = backlog(jobsPerPartition);
        long start = System.nanoTime();
        String worker = farm.addWorker(workerSettings);
        progress.say("published a backlog of " + jobs + " jobs of 100 ms to " + workersBefore + " worker"
                + (workersBefore == 1 ? "" : "s") + " and started " + worker);
        farm.awaitReady(worker);
        double ready = (System.nanoTime() - start) / 1e9;
        Progress.Counter counter = progress.count("draining the backlog", jobs);
        List<Reply> replies = drain(backlog, counter);
        List<Reply> byCompletion = replies.stream().sorted(Comparator.comparingLong(Reply::receivedNanos)).toList();
        OptionalDouble first = byCompletion.stream().filter(r -> r.workerId().equals(worker))
                .mapToDouble(r -> (r.receivedNanos() - start) / 1e9).findFirst();
        OptionalDouble share = shareTaken(byCompletion, worker, 1.0 / (workersBefore + 1), start);
        counter.end(String.format("%s ready after %.1f s, first result after %s, its share after %s", worker, ready,
                seconds(first), seconds(share)));
        farm.awaitWarm();
        farm.awaitSettled();
        return new Takeover(worker, workersBefore, jobs, ready, first, share, replies, start);
    }

    /** Starts workers until the farm has {@code workers}, and waits for them to settle. */
    void growTo(int workers, int current, Map<String, String> workerSettings) throws Exception {
        List<String> started = new ArrayList<>();
        for (int i = current; i < workers; i++) {
            started.add(farm.addWorker(workerSettings));
        }
        progress.say("starting " + String.join(", ", started));
        for (String worker : started) {
            farm.awaitReady(worker);
        }
        farm.awaitWarm();
        farm.awaitSettled();
    }

    /**
     * The end of the first one-second window in which the new worker finished at least 90% of its
     * fair share of the jobs finished in it.
     */
    static OptionalDouble shareTaken(List<Reply> byCompletion, String worker, double fairShare, long startNanos) {
        long last = byCompletion.get(byCompletion.size() - 1).receivedNanos();
        for (long from = startNanos; from + WINDOW_NANOS <= last; from += STEP_NANOS) {
            long to = from + WINDOW_NANOS;
            long total = 0;
            long theirs = 0;
            for (Reply r : byCompletion) {
                if (r.receivedNanos() >= from && r.receivedNanos() < to) {
                    total++;
                    theirs += r.workerId().equals(worker) ? 1 : 0;
                }
            }
            if (total > 0 && theirs >= 0.9 * fairShare * total) {
                return OptionalDouble.of((to - startNanos) / 1e9);
            }
        }
        return OptionalDouble.empty();
    }

    static String seconds(OptionalDouble value) {
        return value.isPresent() ? String.format("%.1f s", value.getAsDouble()) : "never (the backlog ran out first)";
    }

    private List<CompletableFuture<Reply>> backlog(int jobsPerPartition) {
        int partitions = kafka.partitions("python");
        List<CompletableFuture<Reply>> backlog = new ArrayList<>();
        for (int j = 0; j < jobsPerPartition; j++) {
            for (int p = 0; p < partitions; p++) {
                backlog.add(kafka.submit("python", SLEEP, p));
            }
        }
        return backlog;
    }

    /** Waits for every job of a backlog, in order, ticking {@code counter}; every one must succeed. */
    static List<Reply> drain(List<CompletableFuture<Reply>> backlog, Progress.Counter counter) throws Exception {
        List<Reply> replies = new ArrayList<>(backlog.size());
        for (CompletableFuture<Reply> job : backlog) {
            replies.add(job.get(10, TimeUnit.MINUTES).requireOk());
            counter.tick();
        }
        return replies;
    }
}
