package io.execfarm.worker.pool;

import java.util.Map;

/**
 * A snapshot of one pool, for metrics and health.
 *
 * @param started       processes that became warm since the pool opened
 * @param retired       processes retired (worn out, crashed, killed or evicted) since then
 * @param startFailures starts that failed since then
 * @param retirements   processes retired since then, by why
 */
public record PoolStats(int size, int starting, int idle, int busy, int retiring, int waiting, long started,
        long retired, long startFailures, Map<Retirement, Long> retirements) {

    public PoolStats {
        retirements = Map.copyOf(retirements);
    }

    public long retiredFor(Retirement reason) {
        return retirements.getOrDefault(reason, 0L);
    }
}
