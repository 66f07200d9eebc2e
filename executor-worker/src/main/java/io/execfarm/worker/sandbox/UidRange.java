package io.execfarm.worker.sandbox;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The uids a worker's runtime processes run as: one per pool slot of each runtime, none shared with
 * another runtime or with another worker on the host, held for the worker's life. A uid's
 * RLIMIT_NPROC counts every process of that uid on the host, so a fork bomb in a slot that shared
 * its uid would use up the limit of every other slot with that uid.
 *
 * <p>Each uid is held through a lock on a file of its own in a host directory
 * ({@code /run/execfarm/uids} by default): a worker takes the first block of free uids at or above
 * its configured base, and the kernel drops the locks of a worker that dies, however it dies.
 */
public final class UidRange implements AutoCloseable {

    /** Blocks tried above the base before the worker gives up: room for this many workers on one host. */
    static final int MAX_BLOCKS = 1000;

    private final Map<String, Integer> firstByRuntime;
    private final Map<String, Integer> slotsByRuntime;
    private final int first;
    private final int size;
    private final List<FileLock> locks;

    private UidRange(Map<String, Integer> slotsByRuntime, int first, List<FileLock> locks) {
        this.slotsByRuntime = Map.copyOf(slotsByRuntime);
        this.first = first;
        this.locks = List.copyOf(locks);
        Map<String, Integer> firsts = new LinkedHashMap<>();
        int next = first;
        for (Map.Entry<String, Integer> runtime : slotsByRuntime.entrySet()) {
            firsts.put(runtime.getKey(), next);
            next += runtime.getValue();
        }
        this.firstByRuntime = Map.copyOf(firsts);
        this.size = next - first;
    }

    /**
     * Takes {@code slotsByRuntime}'s uids, in its order, from the first block at or above
     * {@code base} that no other holder has.
     *
     * @throws IllegalStateException when {@value #MAX_BLOCKS} blocks were all taken, in part or whole
     */
    public static UidRange claim(Path lockDir, int base, Map<String, Integer> slotsByRuntime) throws IOException {
        int size = slotsByRuntime.values().stream().mapToInt(Integer::intValue).sum();
        Files.createDirectories(lockDir);
        for (int block = 0; block < MAX_BLOCKS; block++) {
            int first = base + block * Math.max(1, size);
            List<FileLock> locks = lockAll(lockDir, first, size);
            if (locks != null) {
                return new UidRange(new LinkedHashMap<>(slotsByRuntime), first, locks);
            }
        }
        throw new IllegalStateException("no " + size + " free uids from " + base + " on: another " + MAX_BLOCKS
                + " workers' worth are held in " + lockDir + "; set execfarm.worker.sandbox.uid-base elsewhere");
    }

    /** Locks on uids {@code first} to {@code first + size - 1}, or null (nothing held) when any is taken. */
    private static List<FileLock> lockAll(Path lockDir, int first, int size) throws IOException {
        List<FileLock> locks = new ArrayList<>();
        for (int uid = first; uid < first + size; uid++) {
            FileChannel channel = FileChannel.open(lockDir.resolve(Integer.toString(uid)), StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE);
            FileLock lock;
            try {
                lock = channel.tryLock();
            } catch (OverlappingFileLockException heldInThisProcess) {
                lock = null;
            }
            if (lock == null) {
                channel.close();
                release(locks);
                return null;
            }
            locks.add(lock);
        }
        return locks;
    }

    /** The uid of {@code runtime}'s pool slot {@code slot}. */
    public int uid(String runtime, int slot) {
        Integer runtimeFirst = firstByRuntime.get(runtime);
        if (runtimeFirst == null || slot < 0 || slot >= slotsByRuntime.get(runtime)) {
            throw new IllegalArgumentException("no uid for " + runtime + " slot " + slot + " in " + this);
        }
        return runtimeFirst + slot;
    }

    public int first() {
        return first;
    }

    @Override
    public void close() {
        release(locks);
    }

    private static void release(List<FileLock> locks) {
        for (FileLock lock : locks) {
            try {
                lock.channel().close();
            } catch (IOException e) {
                // Closing a lock file cannot lose anything: the lock goes with the descriptor.
            }
        }
    }

    @Override
    public String toString() {
        return "uids " + first + "-" + (first + size - 1) + " " + firstByRuntime;
    }
}
