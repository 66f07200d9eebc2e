package io.execfarm.farm;

import java.nio.file.Files;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

@Command(name = "down", description = "Stop exactly what ./farm up started.")
final class DownCommand implements Callable<Integer> {

    @ParentCommand
    Farm farm;

    @Override
    public Integer call() throws Exception {
        stop(farm);
        return 0;
    }

    static void stop(Farm farm) throws Exception {
        LocalApps apps = new LocalApps(farm.repoRoot, farm.state, farm.err);
        for (String app : farm.state.apps()) {
            apps.stop(app).ifPresent(pid -> farm.say("stopped " + app + " (pid " + pid + ")"));
        }
        if (Files.isDirectory(farm.state.infraDir())) {
            new Infra(farm.repoRoot, farm.state.infraDir()).stop();
        }
        farm.state.forgetEnv();
    }
}
