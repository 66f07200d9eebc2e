package io.execfarm.worker.runtime;

import io.execfarm.contracts.Output;

/** Receives a request's output as it arrives, in order, from the thread that runs the request. */
@FunctionalInterface
public interface OutputSink {

    void accept(Output.Stream stream, String text);

    OutputSink DISCARD = (stream, text) -> { };
}
