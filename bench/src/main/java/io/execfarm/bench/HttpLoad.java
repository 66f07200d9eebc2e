package io.execfarm.bench;

import io.execfarm.farm.LocalFarm;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * One farm's answer to a fixed load through the dispatcher's HTTP API, after a warm-up: a trivial
 * snippet's latency at concurrency 1, then at the plan's highest concurrency its latency, its
 * throughput and the CPU each process spent per request. What the cost benchmarks (tracing,
 * security) compare between farms that differ in one setting.
 */
record HttpLoad(Histogram latencyAtOne, Histogram latencyAtTop, double perSecond, Map<String, Double> cpuMsPerRequest) {

    /** What the dispatcher's and the workers' JVMs spent per request at the highest concurrency (runtimes left out). */
    double appCpuMs() {
        return cpuMsPerRequest.entrySet().stream()
                .filter(role -> role.getKey().equals("dispatcher") || role.getKey().startsWith("worker"))
                .mapToDouble(Map.Entry::getValue).sum();
    }

    /** What the broker (on a cluster, the brokers) spent per request at the highest concurrency. */
    double brokerCpuMs() {
        return sum("broker");
    }

    /** What Redis (on a cluster, its nodes) spent per request at the highest concurrency. */
    double redisCpuMs() {
        return sum("redis");
    }

    private double sum(String role) {
        return cpuMsPerRequest.entrySet().stream().filter(process -> process.getKey().startsWith(role))
                .mapToDouble(Map.Entry::getValue).sum();
    }

    static HttpLoad measure(LocalFarm farm, Plan plan, Progress progress) throws Exception {
        ClosedLoop.Call call = () -> HttpCall.run(farm.client(), "python", LatencyBenchmark.TRIVIAL);
        Progress.Counter warmUp = progress.count("warm-up, " + plan.warmUpRequests() + " requests, 10 at a time",
                plan.warmUpRequests());
        ClosedLoop.run(10, plan.warmUpRequests(), call, warmUp);
        warmUp.end("done");
        int one = plan.requestsAt(1);
        Progress.Counter serial = progress.count("concurrency 1, " + one + " requests", one);
        Histogram atOne = histogram(ClosedLoop.run(1, one, call, serial));
        serial.end(String.format("p50 %.1f ms", atOne.getValueAtPercentile(50) / 1000.0));
        int top = plan.highestConcurrency();
        int many = plan.requestsAt(top);
        Progress.Counter loaded = progress.count("concurrency " + top + ", " + many + " requests", many);
        Map<String, Long> processes = farm.processes();
        CpuMeter.Reading before = CpuMeter.read(processes);
        ClosedLoop.Run busy = ClosedLoop.run(top, many, call, loaded);
        CpuMeter.Usage cpu = CpuMeter.between(before, CpuMeter.read(processes), many, busy.seconds());
        HttpLoad load = new HttpLoad(atOne, histogram(busy), busy.perSecond(), cpu.msPerRequest());
        loaded.end(String.format("%.0f requests/s, %.2f ms of the applications' CPU and %.2f ms of the broker's each",
                load.perSecond(), load.appCpuMs(), load.brokerCpuMs()));
        return load;
    }

    private static Histogram histogram(ClosedLoop.Run run) {
        Histogram latency = LatencyBenchmark.Level.histogram();
        run.replies().forEach(reply -> latency.recordValue(reply.latencyMicros()));
        return latency;
    }

    /** The median of {@code values}: the figure the cost benchmarks compare, each over its rounds. */
    static double median(List<Double> values) {
        List<Double> sorted = values.stream().sorted(Comparator.naturalOrder()).toList();
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }
}
