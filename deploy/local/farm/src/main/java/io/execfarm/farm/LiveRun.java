package io.execfarm.farm;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.PrintStream;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One execution with its output on the terminal as it streams in: stdout to stdout, stderr to
 * stderr, then a line about the result. A Ctrl-C while it runs cancels it on the farm.
 */
final class LiveRun {

    /** How a finished execution maps to an exit code. */
    static int exitCode(String status) {
        return switch (status) {
            case "ok" -> 0;
            case "timeout" -> 124;
            case "rejected", "expired" -> 2;
            case "cancelled" -> 130;
            default -> 1;
        };
    }

    /**
     * The value, or the error with its stack trace as the runtime's own REPL shows it (the frames
     * name the request's cell), a line each.
     */
    static String summary(JsonNode result) {
        StringBuilder text = new StringBuilder();
        if (result.hasNonNull("value")) {
            text.append("=> ").append(result.get("value").asText()).append('\n');
        }
        JsonNode error = result.path("error");
        if (error.isObject()) {
            String trace = error.path("stacktrace").asText("");
            text.append(trace);
            if (!trace.isEmpty() && !trace.endsWith("\n")) {
                text.append('\n');
            }
            text.append("=> ").append(error.path("type").asText()).append(": ").append(error.path("message").asText())
                    .append('\n');
        }
        return text.toString();
    }

    /** What came of one execution, and how long it took from submission to its result. */
    record Finished(JsonNode result, long nanos) {
        String status() {
            return result.path("status").asText("unknown");
        }
    }

    private final Executions client;
    private final PrintStream out;
    private final PrintStream err;

    LiveRun(Executions client, PrintStream out, PrintStream err) {
        this.client = client;
        this.out = out;
        this.err = err;
    }

    Finished run(String runtime, String code, String session, Long timeoutMs) throws IOException, InterruptedException {
        return run(runtime, code, session, timeoutMs, Attachments.NONE);
    }

    /** As {@link #run(String, String, String, Long)}, bringing files and saving what comes back (RunArtifacts). */
    Finished run(String runtime, String code, String session, Long timeoutMs, Attachments attachments)
            throws IOException, InterruptedException {
        long start = System.nanoTime();
        String execution = client.submit(runtime, code, session, timeoutMs, attachments);
        RunArtifacts artifacts = new RunArtifacts(client, attachments.outDir(), err);
        AtomicBoolean finished = new AtomicBoolean();
        Thread cancelOnInterrupt = new Thread(() -> {
            if (!finished.get()) {
                err.println();
                err.println("farm: cancelling " + execution);
                try {
                    client.cancel(execution);
                } catch (IOException | InterruptedException e) {
                    err.println("farm: could not cancel: " + e.getMessage());
                }
            }
        });
        Runtime.getRuntime().addShutdownHook(cancelOnInterrupt);
        try {
            JsonNode result = client.follow(execution, event -> {
                if ("output".equals(event.type())) {
                    PrintStream stream = "stderr".equals(event.data().path("stream").asText()) ? err : out;
                    stream.print(event.data().path("text").asText());
                    stream.flush();
                } else if ("display".equals(event.type())) {
                    artifacts.display(event.data().path("data"), out);
                }
            });
            finished.set(true);
            artifacts.collected(result);
            long nanos = System.nanoTime() - start;
            describe(result, nanos);
            return new Finished(result, nanos);
        } finally {
            finished.set(true);
            try {
                Runtime.getRuntime().removeShutdownHook(cancelOnInterrupt);
            } catch (IllegalStateException e) {
                // Shutting down already: the hook runs.
            }
        }
    }

    private void describe(JsonNode result, long nanos) {
        out.flush();
        err.print(summary(result));
        JsonNode timings = result.path("timings");
        err.printf("   [%s in %.1f ms on %s: queued %d ms, process %d ms, ran %d ms]%n", result.path("status").asText(),
                nanos / 1e6, result.path("workerId").asText("?"), timings.path("queuedMs").asLong(),
                timings.path("acquireMs").asLong(), timings.path("execMs").asLong());
    }
}
