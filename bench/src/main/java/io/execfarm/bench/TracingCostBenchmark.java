package io.execfarm.bench;

import io.execfarm.farm.LocalFarm;
import io.execfarm.farm.OtlpReceiver;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import org.HdrHistogram.Histogram;

/**
 * What tracing costs: through the dispatcher's HTTP API (the path with the most spans), the latency
 * of a trivial snippet at concurrency 1 and the throughput at the plan's highest concurrency, with
 * tracing off and with every span exported by OTLP to a receiver in this process, which takes and
 * discards them as a collector would. Off and exporting take turns, so a noisy machine's drift falls
 * on both. Each measurement is taken on a farm started afresh, serving Python only (Julia pools
 * compiling beside it would take CPU from one measurement and not another), and warmed up first.
 * The caller owns the receiver, so that a farm left up exporting has somewhere to send its spans.
 */
final class TracingCostBenchmark {

    /**
     * One measurement, tracing off or exporting: latency at concurrency 1, and at the highest
     * concurrency the throughput and the CPU the dispatcher's and workers' JVMs spent per request
     * (where tracing runs; the runtime processes are not counted).
     */
    record Measurement(boolean exporting, HttpLoad load, long exports) {

        Histogram latency() {
            return load.latencyAtOne();
        }

        double perSecond() {
            return load.perSecond();
        }

        double appCpuMs() {
            return load.appCpuMs();
        }
    }

    /** Every measurement, in the order taken, on farms of {@code workers} workers. */
    record Results(int workers, int top, List<Measurement> measurements) {

        /** The throughput lost to exporting, as measured: 1 less the ratio of the medians, exporting over off. */
        double throughputCost() {
            return 1 - median(true, Measurement::perSecond) / median(false, Measurement::perSecond);
        }

        /**
         * The throughput a farm whose applications' CPU is the bottleneck loses to exporting: 1 less
         * the ratio of the medians of CPU per request, off over exporting. Steadier than the
         * throughput itself on a machine shared with everything else.
         */
        double cpuCost() {
            return 1 - median(false, Measurement::appCpuMs) / median(true, Measurement::appCpuMs);
        }

        /** How far apart the throughputs of the rounds with tracing off lie, over their median: the noise. */
        double offSpread() {
            List<Double> off = measurements.stream().filter(m -> !m.exporting()).map(Measurement::perSecond).toList();
            return (off.stream().mapToDouble(Double::doubleValue).max().orElse(0)
                    - off.stream().mapToDouble(Double::doubleValue).min().orElse(0)) / median(false, Measurement::perSecond);
        }

        /** Latency at concurrency 1, p50, exporting over off (medians of the rounds). */
        double latencyRatio() {
            return median(true, m -> m.latency().getValueAtPercentile(50))
                    / median(false, m -> m.latency().getValueAtPercentile(50));
        }

        private double median(boolean exporting, ToDoubleFunction<Measurement> value) {
            return HttpLoad.median(measurements.stream().filter(m -> m.exporting() == exporting)
                    .map(value::applyAsDouble).toList());
        }
    }

    private final LocalFarm farm;
    private final Progress progress;

    TracingCostBenchmark(LocalFarm farm, Progress progress) {
        this.farm = farm;
        this.progress = progress;
    }

    /** Two workers: the farm the latency levels ran on. */
    private static final int WORKERS = 2;

    /**
     * Leaves the farm down. A smoke plan takes its "off" figures on the farm that is up and its
     * "exporting" ones on the share groups' farm, which it leaves up, still exporting to
     * {@code receiver}, for {@link ShareGroupBenchmark}: one farm started instead of two.
     */
    Results run(Map<String, String> workerSettings, Plan plan, OtlpReceiver receiver) throws Exception {
        Map<String, String> pythonOnly = new HashMap<>(workerSettings);
        pythonOnly.put("EXECFARM_JULIA", "false");
        List<Measurement> measurements = new ArrayList<>();
        for (int round = 1; round <= plan.tracingRounds(); round++) {
            for (boolean exporting : List.of(false, true)) {
                boolean onFarmUp = plan.smoke() && !exporting;
                progress.say("tracing, round " + round + " of " + plan.tracingRounds() + ": "
                        + (onFarmUp ? "the farm that is up" : plan.smoke() ? "the share groups' farm" : "a farm of "
                        + WORKERS + " workers") + (exporting ? " exporting every span" : " with tracing off"));
                Map<String, String> appSettings = exporting ? receiver.exportSettings() : Map.of();
                if (plan.smoke() && exporting) {
                    farm.down();
                    farm.up(1, ShareGroupBenchmark.workerSettings(workerSettings), appSettings, LocalFarm.Warm.POOLS);
                } else if (!onFarmUp) {
                    farm.down();
                    farm.up(WORKERS, pythonOnly, appSettings, LocalFarm.Warm.POOLS);
                }
                measurements.add(measure(exporting, plan, receiver));
            }
        }
        if (!plan.smoke()) {
            farm.down();
        }
        return new Results(WORKERS, plan.highestConcurrency(), measurements);
    }

    private Measurement measure(boolean exporting, Plan plan, OtlpReceiver receiver) throws Exception {
        long exportsBefore = receiver.exports();
        HttpLoad load = HttpLoad.measure(farm, plan, progress);
        // Spans leave in batches every 200 ms: what this measurement made has been sent by now.
        Thread.sleep(1000);
        return new Measurement(exporting, load, receiver.exports() - exportsBefore);
    }
}
