package io.execfarm.worker.runtime;

import io.execfarm.contracts.Output;
import java.util.Map;

/** Receives a request's output as it arrives, in order, from the thread that runs the request. */
@FunctionalInterface
public interface OutputSink {

    void accept(Output.Stream stream, String text);

    /**
     * A MIME bundle the code displayed, in its place among the output chunks; a sink that keeps no
     * output (a warm-up, a session's replay) leaves it.
     */
    default void display(Map<String, String> data) {
    }

    OutputSink DISCARD = (stream, text) -> { };
}
