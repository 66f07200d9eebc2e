package io.execfarm.worker.sandbox;

/** The files through which each cgroup version sets a memory limit and reports the kills it made. */
public enum CgroupVersion {
    V1("memory.limit_in_bytes", "memory.memsw.limit_in_bytes", "memory.oom_control"),
    V2("memory.max", "memory.swap.max", "memory.events");

    private final String memoryLimit;
    private final String swapLimit;
    private final String memoryEvents;

    CgroupVersion(String memoryLimit, String swapLimit, String memoryEvents) {
        this.memoryLimit = memoryLimit;
        this.swapLimit = swapLimit;
        this.memoryEvents = memoryEvents;
    }

    /** The file that holds the group's memory limit in bytes. */
    String memoryLimit() {
        return memoryLimit;
    }

    /**
     * The file that limits swap: v1's holds memory and swap together, v2's swap alone; either is
     * absent where the kernel does not account swap.
     */
    String swapLimit() {
        return swapLimit;
    }

    /** The file whose {@code oom_kill} line counts the group's kills at its memory limit. */
    String memoryEvents() {
        return memoryEvents;
    }

    /** What the swap limit file must hold so that the process is stopped at its memory limit, not swapped. */
    String swapLimitFor(long memoryBytes) {
        return this == V1 ? Long.toString(memoryBytes) : "0";
    }
}
