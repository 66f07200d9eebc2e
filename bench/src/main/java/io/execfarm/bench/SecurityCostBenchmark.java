package io.execfarm.bench;

import io.execfarm.farm.LocalFarm;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * What the broker's security costs: the same HTTP load ({@link HttpLoad}) on a farm whose broker
 * authenticates every client (SASL, SCRAM-SHA-512 for the services) and authorizes every operation
 * by ACL, the farm's own, and on one whose broker takes anyone (PLAINTEXT, no authorizer), in turns,
 * so a noisy machine's drift falls on both. Each farm is started afresh, serves Python only and is
 * warmed up first. Leaves the farm down.
 */
final class SecurityCostBenchmark {

    /** One farm's measurement, its broker secured or open. */
    record Measurement(boolean secured, HttpLoad load) {
    }

    /** Every measurement, in the order taken, on farms of {@code workers} workers. */
    record Results(int workers, int top, List<Measurement> measurements) {

        /** A figure of the secured farms over the same of the open ones, medians of the rounds. */
        double ratio(ToDoubleFunction<HttpLoad> figure) {
            return median(true, figure) / median(false, figure);
        }

        double median(boolean secured, ToDoubleFunction<HttpLoad> figure) {
            return HttpLoad.median(measurements.stream().filter(m -> m.secured() == secured)
                    .map(m -> figure.applyAsDouble(m.load())).toList());
        }
    }

    /** Two workers: the farm the latency levels run on. */
    private static final int WORKERS = 2;
    private static final Map<String, String> OPEN_BROKER = Map.of("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT");

    private final LocalFarm farm;
    private final Progress progress;

    SecurityCostBenchmark(LocalFarm farm, Progress progress) {
        this.farm = farm;
        this.progress = progress;
    }

    Results run(Map<String, String> workerSettings, Plan plan) throws Exception {
        Map<String, String> pythonOnly = new HashMap<>(workerSettings);
        pythonOnly.put("EXECFARM_JULIA", "false");
        List<Measurement> measurements = new ArrayList<>();
        for (int round = 1; round <= plan.tracingRounds(); round++) {
            for (boolean secured : List.of(false, true)) {
                progress.say("security, round " + round + " of " + plan.tracingRounds() + ": a farm of " + WORKERS
                        + " workers whose broker " + (secured ? "authenticates and authorizes every client" : "takes anyone"));
                farm.down();
                farm.up(WORKERS, pythonOnly, secured ? Map.of() : OPEN_BROKER, LocalFarm.Warm.POOLS);
                measurements.add(new Measurement(secured, HttpLoad.measure(farm, plan, progress)));
            }
        }
        farm.down();
        return new Results(WORKERS, plan.highestConcurrency(), measurements);
    }
}
