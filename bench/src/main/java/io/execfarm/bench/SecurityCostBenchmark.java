package io.execfarm.bench;

import io.execfarm.farm.LocalFarm;
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
        return FarmComparison.inTurns(farm, plan, progress, "security", WORKERS, List.of(Broker.values()),
                broker -> " whose broker " + (broker == Broker.SECURED
                        ? "authenticates and authorizes every client" : "takes anyone"),
                broker -> farm.up(WORKERS, pythonOnly, broker == Broker.SECURED ? Map.of() : OPEN_BROKER,
                        LocalFarm.Warm.POOLS));
    }
}
