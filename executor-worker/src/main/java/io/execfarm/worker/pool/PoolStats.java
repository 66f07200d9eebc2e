package io.execfarm.worker.pool;

/**
 * A snapshot of one pool, for metrics and health.
 *
 * @param started       processes that became warm since the pool opened
 * @param retired       processes retired (worn out, crashed, killed or evicted) since then
 * @param startFailures starts that failed since then
 */
public record PoolStats(int size, int starting, int idle, int busy, int retiring, int waiting, long started,
        long retired, long startFailures) {
}
