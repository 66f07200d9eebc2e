package io.execfarm.client;

import io.execfarm.contracts.Result;

/** The farm refused a session command: its answer says why ({@code error.type}, {@code error.message}). */
public class RejectedException extends RuntimeException {

    private final transient Result result;

    RejectedException(Result result) {
        super(result.error() == null ? "refused: " + result.status().wireName()
                : result.error().type() + ": " + result.error().message());
        this.result = result;
    }

    public Result result() {
        return result;
    }
}
