package io.execfarm.farm;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;

/** A way to run code on the farm for {@code ./farm run}: the dispatcher's HTTP API, or Kafka straight. */
interface Executions {

    /** Queues code to run, with what it brings and collects; returns how {@link #follow} names the execution. */
    String submit(String runtime, String code, String session, Long timeoutMs, Attachments attachments)
            throws IOException, InterruptedException;

    /** Hands each event to {@code onEvent} as it arrives; returns the {@code result} event, the last one. */
    JsonNode follow(String execution, DispatcherClient.EventHandler onEvent) throws IOException, InterruptedException;

    void cancel(String execution) throws IOException, InterruptedException;

    /** A file the farm stored by reference (a collected file past the result's inline limit). */
    byte[] download(String ref) throws IOException, InterruptedException;
}
