package io.execfarm.farm;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code ./farm}: a local farm (a real Kafka broker and Redis, one dispatcher, N workers, all as
 * local processes) and the commands to use it. The launcher script builds what is missing and
 * passes the repository root as {@code execfarm.repo.root}.
 */
@Command(name = "farm", mixinStandardHelpOptions = true, sortOptions = false,
        description = "A local execfarm: a real Kafka broker and Redis, a dispatcher and workers as local processes.",
        subcommands = {UpCommand.class, DemoCommand.class, RunCommand.class, StatusCommand.class, EnvCommand.class,
                TenantCommand.class, DownCommand.class},
        // The ./farm script runs these two from the benchmark module, which this program does not contain.
        footer = {"", "Also, on a farm of their own (./farm bench --help, ./farm chaos --help):",
                "  bench   Benchmark a farm: latency against a bare baseline, warm against cold, scaling; writes "
                        + "docs/benchmarks.md (--quick: a smoke run).",
                "  chaos   Faults under load: kills workers, restarts the broker and Redis, counts what clients lost; "
                        + "writes docs/reliability.md."})
public final class Farm {

    final Path repoRoot;
    final FarmState state;
    final PrintStream out;
    final PrintStream err;

    Farm(Path repoRoot, FarmState state, PrintStream out, PrintStream err) {
        this.repoRoot = repoRoot;
        this.state = state;
        this.out = out;
        this.err = err;
    }

    public static void main(String[] args) {
        Path root = Path.of(System.getProperty("execfarm.repo.root", ".")).toAbsolutePath().normalize();
        Path stateDir = Optional.ofNullable(System.getenv("EXECFARM_FARM_DIR")).map(Path::of)
                .orElse(root.resolve(".farm"));
        Farm farm = new Farm(root, new FarmState(stateDir), System.out, System.err);
        System.exit(new CommandLine(farm).setExecutionExceptionHandler((e, line, parsed) -> {
            farm.say("error: " + e.getMessage());
            return 1;
        }).execute(args));
    }

    void say(String message) {
        err.println("farm: " + message);
    }

    /**
     * Where clients reach a farm: {@code DISPATCHER_URL} and {@code EXECFARM_API_KEY} from the
     * environment when set (any farm: compose, Kubernetes), else this local farm's.
     */
    DispatcherClient client() {
        String url = System.getenv("DISPATCHER_URL");
        String key = System.getenv("EXECFARM_API_KEY");
        if (url != null && key != null) {
            return new DispatcherClient(url, key);
        }
        Map<String, String> env = env();
        return new DispatcherClient(env.get("DISPATCHER_URL"), env.get("EXECFARM_API_KEY"));
    }

    /** This local farm's addresses and logins ({@code ./farm env}), while it is up. */
    Map<String, String> env() {
        return state.env().filter(e -> state.isUp())
                .orElseThrow(() -> new IllegalStateException("the farm is not up: ./farm up (or set DISPATCHER_URL "
                        + "and EXECFARM_API_KEY to use another farm)"));
    }
}
