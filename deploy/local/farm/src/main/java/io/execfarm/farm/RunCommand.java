package io.execfarm.farm;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "run", description = {"Run a file (or - for standard input) on the farm, streaming its output.",
        "Exit status: 0 ok, 1 error (or crash), 124 timeout, 2 rejected, 130 cancelled."})
final class RunCommand implements Callable<Integer> {

    @ParentCommand
    Farm farm;

    @Option(names = "--runtime", description = "julia or python; by default from the file's extension (.jl, .py).")
    String runtime;

    @Option(names = "--session", description = "Run in this session (POST /v1/sessions creates one), or 'new' "
            + "to start one and print its id.")
    String session;

    @Option(names = "--timeout-ms", description = "Wall-clock limit; the dispatcher's default (30 s) when absent.")
    Long timeoutMs;

    @Option(names = "--file", paramLabel = "LOCAL[=PATH]", description = "A file the code finds in its working "
            + "directory, under its own name or as PATH; repeatable. Up to 2 MiB together ride in the request; larger "
            + "ones are uploaded first.")
    List<String> files = List.of();

    @Option(names = "--collect", paramLabel = "GLOB", description = "Bring back the files the code leaves that match "
            + "GLOB (relative to its working directory: *, ?, **); repeatable.")
    List<String> collect = List.of();

    @Option(names = "--out", paramLabel = "DIR", description = "Where collected files (under their own paths) and "
            + "displayed pictures (display-N.png, .svg, .html) are saved; the current directory by default.")
    Path outDir = Path.of(".");

    @Option(names = "--kafka", description = "Straight to Kafka with the Java client, no dispatcher: as the tenant "
            + "whose settings the environment holds (eval \"$(./farm tenant add NAME)\"), else as this farm's admin. "
            + "Files ride in the request (up to 2 MiB together).")
    boolean kafka;

    @Parameters(paramLabel = "FILE|-", description = "The code to run; - reads standard input.")
    String file;

    @Override
    public Integer call() throws Exception {
        String chosen = runtime != null ? runtime : runtimeOf(file);
        if (chosen == null) {
            farm.say("cannot tell the runtime of " + file + "; say --runtime julia or --runtime python");
            return 2;
        }
        String code;
        try {
            code = "-".equals(file) ? new String(System.in.readAllBytes(), StandardCharsets.UTF_8)
                    : Files.readString(Path.of(file));
        } catch (IOException e) {
            farm.say("cannot read " + file + ": " + e.getMessage());
            return 2;
        }
        try {
            String target = session;
            if ("new".equals(session)) {
                target = farm.client().createSession(chosen);
                farm.say("session " + target + " (pass --session " + target + " to run more code in it)");
            }
            Attachments attachments = new Attachments(files.stream().map(Attachments.Sent::parse).toList(), collect,
                    outDir);
            for (Attachments.Sent sent : attachments.files()) {
                if (!Files.isRegularFile(sent.local())) {
                    farm.say("cannot read " + sent.local() + ": not a file");
                    return 2;
                }
            }
            if (!kafka) {
                return LiveRun.exitCode(new LiveRun(farm.client(), farm.out, farm.err)
                        .run(chosen, code, target, timeoutMs, attachments).status());
            }
            try (KafkaExecutions overKafka = new KafkaExecutions(KafkaExecutions.settings(System.getenv(), farm::env))) {
                return LiveRun.exitCode(new LiveRun(overKafka, farm.out, farm.err)
                        .run(chosen, code, target, timeoutMs, attachments).status());
            }
        } catch (DispatcherClient.Refused refused) {
            farm.say("rejected (" + refused.status + "): " + refused.getMessage());
            return 2;
        }
    }

    static String runtimeOf(String file) {
        if (file.endsWith(".jl")) {
            return "julia";
        }
        if (file.endsWith(".py")) {
            return "python";
        }
        return null;
    }
}
