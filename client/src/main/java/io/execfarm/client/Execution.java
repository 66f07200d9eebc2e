package io.execfarm.client;

import io.execfarm.contracts.Display;
import io.execfarm.contracts.ExecutionEvent;
import io.execfarm.contracts.Output;
import io.execfarm.contracts.Result;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;

/**
 * One execution's events as they came, in order and without duplicates, ending with its result.
 *
 * @param sentNanos     {@link System#nanoTime()} when the client handed the request to its producer
 * @param answeredNanos {@link System#nanoTime()} when the client's consumer read the result
 */
public record Execution(String requestId, List<ExecutionEvent> events, Result result, long sentNanos,
        long answeredNanos) {

    public Execution {
        events = List.copyOf(events);
    }

    public Result.Status status() {
        return result.status();
    }

    /** Standard output, every chunk in order. */
    public String stdout() {
        return text(Output.Stream.STDOUT);
    }

    public String stderr() {
        return text(Output.Stream.STDERR);
    }

    /** The rich displays (plots, tables), in their places in the output. */
    public List<Display> displays() {
        return events.stream().filter(Display.class::isInstance).map(Display.class::cast).toList();
    }

    /** From sending to reading the result, the client's own work included. */
    public Duration latency() {
        return Duration.ofNanos(answeredNanos - sentNanos);
    }

    private String text(Output.Stream stream) {
        return events.stream().filter(Output.class::isInstance).map(Output.class::cast)
                .filter(output -> output.stream() == stream).map(Output::text).collect(Collectors.joining());
    }
}
