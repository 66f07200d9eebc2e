package io.execfarm.contracts;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * One event of a request, published on its {@code replyTo} topic keyed by request id, so a
 * request's events stay in order: {@link Started}, then {@link Output} chunks and {@link Display}
 * bundles, then exactly one {@link Result}, always last.
 */
public sealed interface ExecutionEvent permits Started, Output, Display, Result {

    String requestId();

    /** The wire discriminator: {@code started}, {@code output}, {@code display} or {@code result}. */
    @JsonProperty("type")
    String type();

    @JsonProperty("v")
    default int v() {
        return Protocol.VERSION;
    }
}
