package io.execfarm.bench;

import io.execfarm.farm.LocalFarm;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What the broker's security costs: the same HTTP load ({@link HttpLoad}) on a farm whose broker
 * authenticates every client (SASL, SCRAM-SHA-512 for the services) and authorizes every operation
 * by ACL, the farm's own, and on one whose broker takes anyone (PLAINTEXT, no authorizer), in turns,
 * so a noisy machine's drift falls on both. Each farm is started afresh, serves Python only and is
 * warmed up first. Leaves the farm down.
 */
final class SecurityCostBenchmark {

    /** A farm's broker: secured as every farm runs, or open (PLAINTEXT, no authorizer). */
    enum Broker {
        OPEN, SECURED
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

    FarmComparison<Broker> run(Map<String, String> workerSettings, Plan plan) throws Exception {
        Map<String, String> pythonOnly = new HashMap<>(workerSettings);
        pythonOnly.put("EXECFARM_JULIA", "false");
        List<FarmComparison.Measurement<Broker>> measurements = new ArrayList<>();
        for (int round = 1; round <= plan.tracingRounds(); round++) {
            for (Broker broker : Broker.values()) {
                boolean secured = broker == Broker.SECURED;
                progress.say("security, round " + round + " of " + plan.tracingRounds() + ": a farm of " + WORKERS
                        + " workers whose broker " + (secured ? "authenticates and authorizes every client" : "takes anyone"));
                farm.down();
                farm.up(WORKERS, pythonOnly, secured ? Map.of() : OPEN_BROKER, LocalFarm.Warm.POOLS);
                measurements.add(new FarmComparison.Measurement<>(broker, HttpLoad.measure(farm, plan, progress)));
            }
        }
        farm.down();
        return new FarmComparison<>(WORKERS, plan.highestConcurrency(), measurements);
    }
}
