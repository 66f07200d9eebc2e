package io.execfarm.farm;

import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(name = "up", description = "Start the broker, Redis, a dispatcher and N workers; wait until all are healthy "
        + "and the workers share the request partitions.")
final class UpCommand implements Callable<Integer> {

    @ParentCommand
    Farm farm;

    @Option(names = "--workers", defaultValue = "2", description = "Workers to start (default ${DEFAULT-VALUE}).")
    int workers;

    @Option(names = "--cluster", description = "Three Kafka brokers and a Redis Cluster of six nodes (three masters, "
            + "a replica each) instead of one of each.")
    boolean cluster;

    @Override
    public Integer call() throws Exception {
        return start(farm, workers, cluster ? LocalFarm.Nodes.CLUSTER : LocalFarm.Nodes.SINGLE);
    }

    static int start(Farm farm, int workers, LocalFarm.Nodes nodes) throws Exception {
        if (workers < 1) {
            farm.say("--workers must be at least 1");
            return 2;
        }
        if (farm.state.isUp()) {
            farm.say("already up at " + farm.state.url("dispatcher") + "; ./farm status shows it, ./farm down stops it");
            return 0;
        }
        LocalFarm local = new LocalFarm(farm.repoRoot, farm.state, farm.err);
        try {
            local.up(workers, Map.of(), Map.of(), LocalFarm.Warm.REQUEST_PATH, nodes);
            farm.say("addresses and the API key: ./farm env; run code: ./farm run FILE; stop: ./farm down");
            return 0;
        } catch (Exception e) {
            farm.say("could not start the farm: " + e.getMessage());
            farm.say("stopping what was started");
            local.down();
            return 1;
        }
    }
}
