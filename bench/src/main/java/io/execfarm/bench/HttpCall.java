package io.execfarm.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.execfarm.farm.DispatcherClient;
import java.time.Instant;

/** One request through the dispatcher's HTTP API, {@code POST /v1/executions?wait=true}, as a {@link Reply}. */
final class HttpCall {

    private HttpCall() {
    }

    static Reply run(DispatcherClient client, String runtime, String code) throws Exception {
        long sentNanos = System.nanoTime();
        long sentMillis = System.currentTimeMillis();
        JsonNode view = client.submitAndWait(runtime, code);
        long receivedNanos = System.nanoTime();
        long receivedMillis = System.currentTimeMillis();
        long accepted = Instant.parse(view.path("submittedAt").asText()).toEpochMilli();
        return new Reply(view.path("result"), sentNanos, sentMillis, accepted, receivedNanos, receivedMillis);
    }
}
