package io.execfarm.farm;

import io.execfarm.accounts.KafkaAccounts;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

@Command(name = "env", description = "Print KAFKA_BOOTSTRAP, KAFKA_ADMIN_PASSWORD, REDIS_URL, DISPATCHER_URL and EXECFARM_API_KEY, for eval.")
final class EnvCommand implements Callable<Integer> {

    @ParentCommand
    Farm farm;

    @Override
    public Integer call() {
        if (!farm.state.isUp()) {
            farm.say("the farm is not up (./farm up)");
            return 1;
        }
        // The services' passwords are theirs alone; a client of the farm logs in as its admin.
        Set<String> services = Arrays.stream(KafkaAccounts.Service.values()).map(KafkaAccounts::passwordVariable)
                .collect(Collectors.toSet());
        farm.state.env().orElseThrow().forEach((name, value) -> {
            if (!services.contains(name)) {
                farm.out.println(name + "=" + value);
            }
        });
        return 0;
    }
}
