package io.execfarm.client;

import io.execfarm.contracts.Result;

/**
 * A result that arrived for an execution already answered, in a record of its own (not the same
 * record read twice): the farm answers each request once, so each of these is a fault worth
 * counting, and the client passes none of them on as events.
 *
 * @param first  the result the execution ended with
 * @param second the one that came after it
 */
public record DuplicateResult(String requestId, Result first, Result second) {
}
