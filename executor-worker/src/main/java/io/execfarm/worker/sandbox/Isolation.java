package io.execfarm.worker.sandbox;

/** What the machine lets the worker do to confine runtime processes, strongest first. */
public enum Isolation {
    /**
     * The worker is root: each process gets its own PID and mount namespace (a fresh /proc, so no
     * other process, the worker included, is visible), runs as an unprivileged per-slot uid with
     * every capability dropped and no_new_privs, under rlimits.
     */
    NAMESPACES_AND_UID,
    /**
     * The worker is root but cannot create namespaces (a container without CAP_SYS_ADMIN): each
     * process runs as its per-slot uid with every capability dropped and no_new_privs, under
     * rlimits. It sees the process list, but cannot read another uid's environment, memory or
     * private files.
     */
    UID_ONLY,
    /**
     * Unprivileged user namespaces: own PID namespace and /proc, rlimits; but the same uid as the
     * worker outside, so files the worker can read, user code can read.
     */
    USER_NAMESPACE,
    /** rlimits and the scrubbed environment only. */
    RLIMITS_ONLY,
    /** Sandbox disabled by configuration. */
    NONE
}
