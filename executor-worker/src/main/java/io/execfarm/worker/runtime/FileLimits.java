package io.execfarm.worker.runtime;

/**
 * How much a request may collect: the largest file, all its files together, and how many. A
 * driver is told them and keeps to them; the worker counts again, since user code owns the driver.
 */
public record FileLimits(long maxFileBytes, long maxRequestBytes, int maxFiles) {

    public static final FileLimits DEFAULT = new FileLimits(1 << 20, 4 << 20, 100);
}
