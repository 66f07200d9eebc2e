package io.execfarm.worker.runtime;

import java.time.Duration;

/**
 * What to run on one process.
 *
 * @param session        the session namespace to run in, or null for a fresh one
 * @param maxOutputBytes output beyond this many UTF-8 bytes is dropped and the result marked truncated
 */
public record ExecutionSpec(String id, String code, String session, long maxOutputBytes, Duration timeout) {
}
