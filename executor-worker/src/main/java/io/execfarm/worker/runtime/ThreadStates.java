package io.execfarm.worker.runtime;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The scheduler states of one process's threads, from their /proc stat files kept open (a thread
 * set rarely changes, and a read through an open descriptor costs a tenth of an open, read and close).
 */
final class ThreadStates implements Closeable {

    private final Path tasks;
    private final Map<String, FileChannel> stats = new HashMap<>();
    /** A stat line's state comes after "pid (comm) "; comm is at most 16 bytes, the pid at most 7 digits. */
    private final ByteBuffer buffer = ByteBuffer.allocate(512);

    ThreadStates(long pid) {
        this.tasks = Path.of("/proc", Long.toString(pid), "task");
    }

    /** Whether any thread is in state R (running, or waiting for a CPU); false when none can be read. */
    synchronized boolean anyRunnable() {
        Set<String> now;
        try (Stream<Path> listed = Files.list(tasks)) {
            now = listed.map(task -> task.getFileName().toString()).collect(Collectors.toSet());
        } catch (IOException e) {
            return false;
        }
        stats.keySet().removeIf(tid -> {
            if (!now.contains(tid)) {
                closeQuietly(stats.get(tid));
                return true;
            }
            return false;
        });
        for (String tid : now) {
            try {
                FileChannel stat = stats.get(tid);
                if (stat == null) {
                    stat = FileChannel.open(tasks.resolve(tid).resolve("stat"), StandardOpenOption.READ);
                    stats.put(tid, stat);
                }
                buffer.clear();
                stat.read(buffer, 0);
                String line = new String(buffer.array(), 0, buffer.position(), StandardCharsets.US_ASCII);
                int afterName = line.lastIndexOf(')');
                if (afterName > 0 && afterName + 2 < line.length() && line.charAt(afterName + 2) == 'R') {
                    return true;
                }
            } catch (IOException e) {
                // The thread ended between the listing and the read.
            }
        }
        return false;
    }

    @Override
    public synchronized void close() {
        stats.values().forEach(ThreadStates::closeQuietly);
        stats.clear();
    }

    private static void closeQuietly(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException e) {
            // A read-only descriptor of a kernel file: nothing is lost.
        }
    }
}
