package io.execfarm.worker.pool;

/** Which requests a process that has already run code may run next. */
public enum ReusePolicy {
    /** Any request: fastest, no isolation between tenants beyond a fresh namespace. */
    ALWAYS,
    /** Only the same tenant's: a process that ran tenant A's code never runs tenant B's. */
    TENANT,
    /** None: every request gets a pre-started fresh process, retired afterwards. */
    NEVER
}
