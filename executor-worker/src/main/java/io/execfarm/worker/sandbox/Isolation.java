package io.execfarm.worker.sandbox;

/** What the machine lets the worker do to confine runtime processes, strongest first. */
public enum Isolation {
    /**
     * The worker is root and bubblewrap runs: each process runs as an unprivileged per-slot uid
     * with every capability dropped and no_new_privs, inside bubblewrap's own user, PID, network,
     * IPC, UTS and mount namespaces: a loopback-only network, a root file system of read-only system
     * directories and the runtime's installation, its own working directory and a size-capped /tmp,
     * a fresh /proc, and no further user namespaces; under rlimits.
     */
    BUBBLEWRAP_AND_UID,
    /**
     * bubblewrap runs but the worker is not root: the same namespaces and file system view, under
     * the worker's own uid (files the view does not show stay out of reach; RLIMIT_NPROC counts
     * the worker's processes too).
     */
    BUBBLEWRAP,
    /**
     * The worker is root: each process gets its own PID and mount namespace (a fresh /proc, so no
     * other process, the worker included, is visible), runs as an unprivileged per-slot uid with
     * every capability dropped and no_new_privs, under rlimits. It shares the worker's network and
     * file system.
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
    NONE;

    /** Whether this confines less than {@code other}. */
    public boolean weakerThan(Isolation other) {
        return ordinal() > other.ordinal();
    }

    /** Whether each process runs as a uid of its own. */
    public boolean ownUid() {
        return this == BUBBLEWRAP_AND_UID || this == NAMESPACES_AND_UID || this == UID_ONLY;
    }

    /** Whether processes get bubblewrap's private network and file system view. */
    public boolean privateView() {
        return this == BUBBLEWRAP_AND_UID || this == BUBBLEWRAP;
    }
}
