package io.execfarm.farm;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

@Command(name = "env", description = "Print KAFKA_BOOTSTRAP, REDIS_URL, DISPATCHER_URL and EXECFARM_API_KEY, for eval.")
final class EnvCommand implements Callable<Integer> {

    @ParentCommand
    Farm farm;

    @Override
    public Integer call() {
        if (!farm.state.isUp()) {
            farm.say("the farm is not up (./farm up)");
            return 1;
        }
        farm.state.env().orElseThrow().forEach((name, value) -> farm.out.println(name + "=" + value));
        return 0;
    }
}
