package io.execfarm.client;

import io.execfarm.contracts.ExecutionEvent;
import io.execfarm.contracts.Result;

/** Where one execution's ordered events go: a subscriber's stream, or a collection for a future. */
interface ExecutionSink {

    /** An event before the result, in order. */
    void next(ExecutionEvent event);

    /** The result, last; nothing follows. */
    void end(Result result, long answeredNanos);

    /** No result will come: sending failed, the client gave up waiting, or it closed. */
    void fail(Throwable failure);
}
