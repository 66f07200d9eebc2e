package io.execfarm.worker.pool;

/**
 * Sizing and recycling of one runtime's pool.
 *
 * @param size              most processes alive at once (starting, idle, busy and retiring together)
 * @param minIdle           warm idle processes kept ready ahead of demand
 * @param startParallelism  processes started at the same time
 * @param maxExecutions     a process is retired after this many requests
 * @param maxResidentBytes  a process whose resident memory grew past this is retired; 0 for no limit
 */
public record PoolSettings(int size, int minIdle, int startParallelism, int maxExecutions, long maxResidentBytes,
        ReusePolicy reuse) {

    public PoolSettings {
        if (size < 1 || minIdle < 0 || minIdle > size || startParallelism < 1 || maxExecutions < 1 || maxResidentBytes < 0) {
            throw new IllegalArgumentException("invalid pool settings: size=" + size + " minIdle=" + minIdle
                    + " startParallelism=" + startParallelism + " maxExecutions=" + maxExecutions
                    + " maxResidentBytes=" + maxResidentBytes);
        }
    }
}
