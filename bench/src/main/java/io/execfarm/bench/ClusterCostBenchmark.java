package io.execfarm.bench;

import io.execfarm.farm.LocalFarm;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What running on a cluster costs: the same HTTP load ({@link HttpLoad}) on a farm of one broker
 * and one Redis, and on one of three brokers (topics replicated three times, two copies acknowledging
 * each write) and a Redis Cluster of three masters with a replica each, whose workers wait for a
 * replica to confirm the writes a failover must not lose ({@code WAIT}), and on the same cluster
 * without that wait: in turns, so a noisy machine's drift falls on all three. Each farm is started
 * afresh, serves Python only and is warmed up first. Leaves the farm down.
 */
final class ClusterCostBenchmark {

    /** The farms compared. */
    enum Setup {
        SINGLE("one broker, one Redis"),
        CLUSTER("cluster, writes wait for a replica"),
        CLUSTER_NO_WAIT("cluster, writes do not wait");

        final String label;

        Setup(String label) {
            this.label = label;
        }
    }

    private static final int WORKERS = 2;
    /** What the cluster farm's workers run with unless told otherwise: no wait for a replica. */
    private static final Map<String, String> NO_WAIT = Map.of("EXECFARM_WORKER_REPLICATED_WRITES_REPLICAS", "0");

    private final LocalFarm farm;
    private final Progress progress;

    ClusterCostBenchmark(LocalFarm farm, Progress progress) {
        this.farm = farm;
        this.progress = progress;
    }

    FarmComparison<Setup> run(Map<String, String> workerSettings, Plan plan) throws Exception {
        Map<String, String> pythonOnly = new HashMap<>(workerSettings);
        pythonOnly.put("EXECFARM_JULIA", "false");
        return FarmComparison.inTurns(farm, plan, progress, "cluster", WORKERS, List.of(Setup.values()),
                setup -> ", " + setup.label, setup -> {
                    Map<String, String> settings = new HashMap<>(pythonOnly);
                    if (setup == Setup.CLUSTER_NO_WAIT) {
                        settings.putAll(NO_WAIT);
                    }
                    farm.up(WORKERS, settings, Map.of(), LocalFarm.Warm.POOLS,
                            setup == Setup.SINGLE ? LocalFarm.Nodes.SINGLE : LocalFarm.Nodes.CLUSTER);
                });
    }
}
