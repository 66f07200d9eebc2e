package io.execfarm.worker.sandbox;

/**
 * The limits and the reach the sandbox gives each process of one runtime.
 *
 * @param addressSpaceBytes RLIMIT_AS; 0 for none
 * @param memoryBytes       the memory limit of the process's control group, where the sandbox can
 *                          give it one; a process that exceeds it is killed and its request ends
 *                          saying so; 0 for none
 * @param access            paths and network beyond the sandbox's defaults
 */
public record Confinement(long addressSpaceBytes, long memoryBytes, RuntimeAccess access) {

    public Confinement withAddressSpace(long bytes) {
        return new Confinement(bytes, memoryBytes, access);
    }

    public Confinement withMemory(long bytes) {
        return new Confinement(addressSpaceBytes, bytes, access);
    }

    public Confinement withAccess(RuntimeAccess newAccess) {
        return new Confinement(addressSpaceBytes, memoryBytes, newAccess);
    }
}
