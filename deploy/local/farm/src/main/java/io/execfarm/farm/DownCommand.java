package io.execfarm.farm;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

@Command(name = "down", description = "Stop exactly what ./farm up started.")
final class DownCommand implements Callable<Integer> {

    @ParentCommand
    Farm farm;

    @Override
    public Integer call() throws Exception {
        new LocalFarm(farm.repoRoot, farm.state, farm.err).down();
        return 0;
    }
}
