package io.execfarm.bench;

import io.execfarm.contracts.Topics;
import io.execfarm.farm.LocalFarm;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The consumer group against the share group, side by side on farms alike: request topics of
 * {@link #PARTITIONS} partitions and workers of one Python process each, so one consumer per worker
 * in each group. Jobs are bound by waiting ({@link #JOB}), so the machine's two cores are not what
 * limits them.
 *
 * <ul>
 *   <li>Throughput on one worker, then on {@link #WORKERS}, twice as many consumers as partitions: a
 *       backlog on the partition-ordered topic (consumer group), then one on the shared topic (share
 *       group), on the same workers. Scaling efficiency is the throughput over the consumers times
 *       the same group's throughput with one consumer; a consumer group is capped at partitions /
 *       consumers. The throughput over what the consumers could do if none waited (consumers / job
 *       length) says what each job's own overhead costs besides.
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
    /** A smoke run's: the fewest that still has a worker join the group. */
    static final int SMOKE_WORKERS = 2;
    static final String JOB = "import time\ntime.sleep(0.2)";
    static final double JOB_SECONDS = 0.2;
    /** The timestamp that begins each line of a worker's log (Quarkus's default format, local time). */
    private static final String LOG_TIME_PATTERN = "yyyy-MM-dd HH:mm:ss,SSS";
    private static final DateTimeFormatter LOG_TIME = DateTimeFormatter.ofPattern(LOG_TIME_PATTERN);

    /** How the workers took the requests: a consumer group, or a share group. */
    enum Mode {
        /** Its consumer starts when SmallRye's connector says the request channel's consumer connected. */
        CONSUMER_GROUP("consumer group", Topics.requests("python"),
                "SRMSG18257: Kafka consumer kafka-consumer-requests-python,"),
        /** Its consumer starts when the worker says it polls (once its pool has a warm process). */
        SHARE_GROUP("share group", Topics.sharedRequests("python"), "python: share consumer 1 polling");

        final String label;
        final String topic;
        final String consumerStartLine;

        Mode(String label, String topic, String consumerStartLine) {
            this.label = label;
            this.topic = topic;
            this.consumerStartLine = consumerStartLine;
        }
    }

    /** A backlog of {@code jobs} drained by {@code consumers} consumers in {@code mode}. */
    record Throughput(Mode mode, int consumers, int jobs, double seconds, Map<String, Long> perWorker) {

        double perSecond() {
            return jobs / seconds;
        }

        /** Throughput over what the consumers could do if none ever waited: one job per job length each. */
        double ofIdeal() {
            return perSecond() / (consumers / JOB_SECONDS);
        }
    }

    /**
     * A worker started under a backlog one worker was draining. Times are seconds after its start;
     * {@code share} is empty when the backlog ran out before it took half of the jobs finishing.
     */
    record Takeover(Mode mode, String worker, int jobs, double consumerStarted, double ready, OptionalDouble firstTaken,
            OptionalDouble firstResult, OptionalDouble share) {

        /** From its consumer's start to the moment it took its first job (its handler's clock). */
        OptionalDouble firstTakenAfterConsumerStarted() {
            return firstTaken.isPresent() ? OptionalDouble.of(firstTaken.getAsDouble() - consumerStarted)
                    : OptionalDouble.empty();
        }
    }

    record Results(int partitions, int workers, List<Throughput> throughputs, List<Takeover> takeovers) {

        Throughput throughput(Mode mode, int consumers) {
            return throughputs.stream().filter(t -> t.mode() == mode && t.consumers() == consumers).findFirst()
                    .orElseThrow();
        }

        /**
         * Throughput over {@code t.consumers()} times the same group's throughput with one consumer:
         * the share of each added consumer's work the group turned into throughput.
         */
        double scalingEfficiency(Throughput t) {
            return t.perSecond() / (t.consumers() * throughput(t.mode(), 1).perSecond());
        }
    }

    private final LocalFarm farm;
    private final Progress progress;

    ShareGroupBenchmark(LocalFarm farm, Progress progress) {
        this.farm = farm;
        this.progress = progress;
    }

    /**
     * The settings of this benchmark's workers, started on a farm of its own: Python only, one
     * process each, request topics of {@link #PARTITIONS} partitions (created by its first worker).
     */
    static Map<String, String> workerSettings(Map<String, String> workerSettings) {
        Map<String, String> settings = new HashMap<>(workerSettings);
        settings.put("EXECFARM_JULIA", "false");
        settings.put("EXECFARM_WORKER_RUNTIME_PYTHON_POOL_SIZE", "1");
        settings.put("EXECFARM_WORKER_RUNTIME_PYTHON_POOL_MIN_IDLE", "1");
        settings.put("EXECFARM_WORKER_TOPICS_PARTITIONS", Integer.toString(PARTITIONS));
        settings.put("EXECFARM_WORKER_SHARED_REQUESTS_PARTITIONS", Integer.toString(PARTITIONS));
        return settings;
    }

    /**
     * Leaves the farm down. A smoke plan runs on the farm that is up, which must be one worker with
     * {@link #workerSettings} on a broker of its own (tracing's, see {@link TracingCostBenchmark}).
     */
    Results run(Map<String, String> workerSettings, Plan plan) throws Exception {
        Map<String, String> settings = workerSettings(workerSettings);
        List<Throughput> throughputs = new ArrayList<>();
        List<Takeover> takeovers = new ArrayList<>();
        int workers = plan.smoke() ? SMOKE_WORKERS : WORKERS;

        if (plan.smoke()) {
            progress.say("share groups: on the farm that is up, 1 worker of one process, request topics of " + PARTITIONS
                    + " partitions");
        } else {
            progress.say("share groups: a farm of 1 worker of one process, request topics of " + PARTITIONS + " partitions");
            farm.down();
            farm.up(1, settings, Map.of(), LocalFarm.Warm.POOLS);
        }
        try (BenchClient kafka = new BenchClient(farm.kafkaAdmin())) {
            for (Mode mode : Mode.values()) {
                warmUp(kafka, mode);
                throughputs.add(throughput(kafka, mode, 1, plan.shareJobs() / workers));
            }
            takeovers.add(takeover(kafka, Mode.CONSUMER_GROUP, plan.shareTakeoverJobs(), settings));
            new ScalingBenchmark(kafka, farm, progress).growTo(workers, farm.liveWorkers().size(), settings);
            for (Mode mode : Mode.values()) {
                warmUp(kafka, mode);
                throughputs.add(throughput(kafka, mode, workers, plan.shareJobs()));
            }
            if (plan.smoke()) {
                // A smoke run measures nothing: the farm that is up serves, back at one worker.
                progress.say("share groups: back to 1 worker, for the share group's takeover");
                for (String worker : farm.liveWorkers().subList(1, farm.liveWorkers().size())) {
                    farm.stop(worker);
                }
                takeovers.add(takeover(kafka, Mode.SHARE_GROUP, plan.shareTakeoverJobs(), settings));
            }
        }
        if (!plan.smoke()) {
            progress.say("share groups: a fresh farm of 1 worker, for the share group's takeover");
            farm.down();
            farm.up(1, settings, Map.of(), LocalFarm.Warm.POOLS);
            try (BenchClient kafka = new BenchClient(farm.kafkaAdmin())) {
                takeovers.add(takeover(kafka, Mode.SHARE_GROUP, plan.shareTakeoverJobs(), settings));
            }
        }
        farm.down();
        return new Results(PARTITIONS, workers, throughputs, takeovers);
    }

    /** Trivial requests through every worker's path of {@code mode} first: a new JVM runs them interpreted. */
    private void warmUp(BenchClient kafka, Mode mode) throws Exception {
        int requests = 20 * farm.liveWorkers().size();
        Progress.Counter counter = progress.count("warming the " + mode.label + " path with " + requests
                + " trivial requests", requests);
        List<CompletableFuture<Reply>> trivial = new ArrayList<>();
        for (int i = 0; i < requests; i++) {
            trivial.add(kafka.submitTo(mode.topic, "python", LatencyBenchmark.TRIVIAL, null));
        }
        ScalingBenchmark.drain(trivial, counter);
        counter.end("done");
    }

    private Throughput throughput(BenchClient kafka, Mode mode, int workers, int jobs) throws Exception {
        Progress.Counter counter = progress.count(workers + " worker" + (workers == 1 ? "" : "s") + ", " + mode.label
                + ": a backlog of " + jobs + " jobs of " + (int) (JOB_SECONDS * 1000) + " ms", jobs);
        long start = System.nanoTime();
        List<Reply> replies = ScalingBenchmark.drain(backlog(kafka, mode, jobs), counter);
        double seconds = (replies.stream().mapToLong(Reply::receivedNanos).max().orElseThrow() - start) / 1e9;
        Map<String, Long> perWorker = replies.stream()
                .collect(Collectors.groupingBy(Reply::workerId, TreeMap::new, Collectors.counting()));
        Throughput throughput = new Throughput(mode, workers, jobs, seconds, perWorker);
        double execMs = replies.stream().mapToLong(r -> r.timing("execMs")).average().orElse(0);
        double takenToResultMs = replies.stream().mapToLong(r -> r.timing("totalMs") - r.timing("queuedMs"))
                .average().orElse(0);
        counter.end(String.format("%.1f jobs/s, %.0f%% of ideal (%s); per job %.1f ms running, %.1f ms from taken "
                + "to result", throughput.perSecond(), 100 * throughput.ofIdeal(), perWorker, execMs, takenToResultMs));
        return throughput;
    }

    private Takeover takeover(BenchClient kafka, Mode mode, int jobs, Map<String, String> settings) throws Exception {
        List<CompletableFuture<Reply>> backlog = backlog(kafka, mode, jobs);
        long start = System.nanoTime();
        long startMillis = System.currentTimeMillis();
        String worker = farm.addWorker(settings);
        progress.say(mode.label + ": published a backlog of " + jobs + " jobs to 1 worker and started " + worker);
        farm.awaitReady(worker);
        double ready = (System.nanoTime() - start) / 1e9;
        Progress.Counter counter = progress.count("draining the backlog", jobs);
        List<Reply> byCompletion = ScalingBenchmark.drain(backlog, counter).stream()
                .sorted(Comparator.comparingLong(Reply::receivedNanos)).toList();
        OptionalDouble first = byCompletion.stream().filter(r -> r.workerId().equals(worker))
                .mapToDouble(r -> (r.receivedNanos() - start) / 1e9).findFirst();
        // A job is taken when the request's queue time ends: its timestamp (the client's clock, the
        // same machine's) plus queuedMs.
        OptionalDouble firstTaken = byCompletion.stream().filter(r -> r.workerId().equals(worker))
                .mapToDouble(r -> (r.acceptedMillis() + r.timing("queuedMs") - startMillis) / 1e3).min();
        OptionalDouble share = ScalingBenchmark.shareTaken(byCompletion, worker, 0.5, start);
        counter.end(String.format("%s ready after %.1f s, first result after %s, its share after %s", worker, ready,
                ScalingBenchmark.seconds(first), ScalingBenchmark.seconds(share)));
        double consumerStarted = (loggedAt(farm.log(worker), mode.consumerStartLine) - startMillis) / 1e3;
        farm.awaitWarm();
        farm.awaitSettled();
        return new Takeover(mode, worker, jobs, consumerStarted, ready, firstTaken, first, share);
    }

    /** When the first line of {@code log} that contains {@code text} was written, by its timestamp. */
    private static long loggedAt(Path log, String text) throws IOException {
        try (Stream<String> lines = Files.lines(log)) {
            String line = lines.filter(l -> l.contains(text)).findFirst()
                    .orElseThrow(() -> new IllegalStateException(log + " has no line with: " + text));
            return LocalDateTime.parse(line.substring(0, LOG_TIME_PATTERN.length()), LOG_TIME)
                    .atZone(ZoneId.systemDefault()).toInstant().toEpochMilli();
        }
    }

    /** Jobs sent to the partitions in turn, as a producer with evenly spread keys would send them. */
    private static List<CompletableFuture<Reply>> backlog(BenchClient kafka, Mode mode, int jobs) {
        int partitions = kafka.partitionsOf(mode.topic);
        List<CompletableFuture<Reply>> backlog = new ArrayList<>();
        for (int j = 0; j < jobs; j++) {
            backlog.add(kafka.submitTo(mode.topic, "python", JOB, j % partitions));
        }
        return backlog;
    }
}
