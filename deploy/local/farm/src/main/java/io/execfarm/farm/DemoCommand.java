package io.execfarm.farm;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

@Command(name = "demo", description = "Start the farm if it is not up, upload examples/data, run the examples with "
        + "live output (each finds the data under data/; what they leave in out/ and display is saved under "
        + "farm-demo/), print a latency summary, and leave the farm up.")
final class DemoCommand implements Callable<Integer> {

    static final String JULIA_INSTALL = "Run deploy/julia/install-julia as root (Debian's Julia 1.5.3), or put a "
            + "Julia >= 1.10 on PATH, then ./farm down && ./farm demo.";
    private static final int WARM_REQUESTS = 20;
    private static final int MAX_WARM_UP_REQUESTS = 1000;
    private static final int FRESH_PROCESSES = 10;
    private static final String TRIVIAL = "1 + 1";
    /** Where the examples' collected files and pictures are saved, one directory per example. */
    private static final Path OUTPUT = Path.of("farm-demo");

    @ParentCommand
    Farm farm;

    @Override
    public Integer call() throws Exception {
        boolean wasUp = farm.state.isUp();
        if (!wasUp && UpCommand.start(farm, 2, LocalFarm.Nodes.SINGLE) != 0) {
            return 1;
        }
        Optional<Path> juliaBinary = farm.state.julia().map(JuliaLocator.Julia::binary);
        boolean julia = juliaBinary.isPresent();
        if (!julia) {
            // Starting the farm said why and how to install it already.
            farm.say("Julia is not installed here, so the Julia examples are skipped"
                    + (wasUp ? " and the farm serves Python. " + JULIA_INSTALL : "."));
        }
        DispatcherClient client = farm.client();
        LiveRun live = new LiveRun(client, farm.out, farm.err);
        List<Attachments.Sent> data = upload(client);
        LiveRun.Finished first = null;
        String firstName = null;
        for (Path example : examples()) {
            String runtime = RunCommand.runtimeOf(example.toString());
            if (runtime == null || (runtime.equals("julia") && !julia)) {
                continue;
            }
            farm.out.println();
            farm.out.println("── " + example.getFileName() + " (" + runtime + ") ──");
            farm.out.flush();
            String name = example.getFileName().toString();
            Attachments attachments = new Attachments(data, List.of("out/**"),
                    OUTPUT.resolve(name.substring(0, name.lastIndexOf('.'))));
            LiveRun.Finished finished = live.run(runtime, Files.readString(example), null, null, attachments);
            if (first == null) {
                first = finished;
                firstName = example.getFileName().toString();
            }
        }
        farm.out.println();
        farm.out.println("── latency on this machine (client-measured) ──");
        if (first != null) {
            farm.out.printf("  first request (%s)                    %8.1f ms%n", firstName, first.nanos() / 1e6);
        }
        summarize(client, "python", List.of(workersPython(), "-c", TRIVIAL), FRESH_PROCESSES);
        if (julia) {
            summarize(client, "julia", List.of(juliaBinary.get().toString(), "--startup-file=no", "-e", TRIVIAL), 3);
        }
        farm.out.println("  Python starts in tens of milliseconds, so for Python the farm's gain is what stays loaded");
        farm.out.println("  (imports, sessions) and the scaling; Julia's start and JIT take seconds, which a warm process");
        farm.out.println("  has already paid.");
        farm.out.println();
        farm.say("the farm is still up: ./farm run FILE runs code on it, ./farm status shows it, ./farm down stops it");
        return 0;
    }

    /**
     * Warm requests through the farm against a fresh interpreter per request, for the same snippet;
     * the farm's figure once its latency has stopped falling, saying how many requests that took.
     */
    private void summarize(DispatcherClient client, String runtime, List<String> fresh, int freshCount)
            throws Exception {
        SteadyState.Warmed warmed = SteadyState.reach(() -> {
            JsonNode done = client.submitAndWait(runtime, TRIVIAL);
            if (!"ok".equals(done.path("status").asText())) {
                throw new IOException("a warm " + runtime + " request failed: " + done);
            }
        }, MAX_WARM_UP_REQUESTS, () -> { });
        farm.out.printf("  %-6s warm-up until steady: %s%n", runtime, warmed.describe());
        long[] warm = new long[WARM_REQUESTS];
        for (int i = 0; i < warm.length; i++) {
            long start = System.nanoTime();
            JsonNode done = client.submitAndWait(runtime, TRIVIAL);
            warm[i] = System.nanoTime() - start;
            if (!"ok".equals(done.path("status").asText())) {
                throw new IOException("a warm " + runtime + " request failed: " + done);
            }
        }
        long[] cold = new long[freshCount];
        for (int i = 0; i < cold.length; i++) {
            long start = System.nanoTime();
            Process process = new ProcessBuilder(fresh).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            process.waitFor();
            cold[i] = System.nanoTime() - start;
        }
        double warmP50 = median(warm) / 1e6;
        double coldP50 = median(cold) / 1e6;
        farm.out.printf("  %-6s through the farm, p50 of %d          %8.1f ms   (HTTP, Kafka, a warm process)%n",
                runtime, WARM_REQUESTS, warmP50);
        farm.out.printf("  %-6s fresh process per request, p50 of %d %8.1f ms   (%s: what a naive executor pays)%n",
                runtime, freshCount, coldP50, String.join(" ", fresh));
    }

    /** The interpreter the workers run: the first python3 on the sandbox's PATH (the worker's default). */
    private static String workersPython() {
        for (String dir : List.of("/usr/local/bin", "/usr/bin", "/bin")) {
            Path candidate = Path.of(dir, "python3");
            if (Files.isExecutable(candidate)) {
                return candidate.toString();
            }
        }
        return "python3";
    }

    /** Stores examples/data on the farm (POST /v1/files), once: every example brings it by id. */
    private List<Attachments.Sent> upload(DispatcherClient client) throws IOException, InterruptedException {
        List<Attachments.Sent> sent = new ArrayList<>();
        for (Path file : files(farm.repoRoot.resolve("examples/data"))) {
            String name = file.getFileName().toString();
            String id = client.upload(Files.readAllBytes(file), name);
            farm.say("uploaded examples/data/" + name + " as file " + id + "; the examples find it as data/" + name);
            sent.add(Attachments.Sent.stored(id, "data/" + name));
        }
        return sent;
    }

    private List<Path> examples() throws IOException {
        return files(farm.repoRoot.resolve("examples"));
    }

    private static List<Path> files(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(Files::isRegularFile).sorted().toList();
        }
    }

    static double median(long[] values) {
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted.length % 2 == 1 ? sorted[sorted.length / 2]
                : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2.0;
    }
}
