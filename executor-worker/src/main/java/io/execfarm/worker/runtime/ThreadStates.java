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
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * One process's threads as the kernel sees them: each one's scheduler state and the system call it
 * is blocked in, from its /proc files kept open (a thread set rarely changes, and a read through an
 * open descriptor costs a tenth of an open, read and close).
 */
final class ThreadStates implements Closeable {

    private final long pid;
    private final Path tasks;
    /** Each thread's open files, by thread id and then by file name ("stat", "syscall"). */
    private final Map<String, Map<String, FileChannel>> open = new HashMap<>();
    /** A stat line's state comes after "pid (comm) "; comm is at most 16 bytes, the pid at most 7 digits. */
    private final ByteBuffer buffer = ByteBuffer.allocate(512);

    ThreadStates(long pid) {
        this.pid = pid;
        this.tasks = Path.of("/proc", Long.toString(pid), "task");
    }

    /** Whether any thread is in state R (running, or waiting for a CPU); false when none can be read. */
    synchronized boolean anyRunnable() {
        for (String tid : threads()) {
            String line = read(tid, "stat").orElse("");
            int afterName = line.lastIndexOf(')');
            if (afterName > 0 && afterName + 2 < line.length() && line.charAt(afterName + 2) == 'R') {
                return true;
            }
        }
        return false;
    }

    /**
     * The call the process's first thread (whose id is the pid) is blocked in; empty while it runs,
     * or where its syscall file cannot be read (that needs the right to trace it: CAP_SYS_PTRACE).
     */
    synchronized Optional<BlockedCall> firstThreadCall() {
        return read(Long.toString(pid), "syscall").flatMap(BlockedCall::parse);
    }

    /** Whether the first thread's syscall file can be read at all: that takes the right to trace the process. */
    synchronized boolean callsVisible() {
        return read(Long.toString(pid), "syscall").isPresent();
    }

    /** The threads there are now; the files of those that ended are closed. */
    private Set<String> threads() {
        Set<String> now;
        try (Stream<Path> listed = Files.list(tasks)) {
            now = listed.map(task -> task.getFileName().toString()).collect(Collectors.toSet());
        } catch (IOException e) {
            return Set.of();
        }
        open.keySet().removeIf(tid -> {
            if (!now.contains(tid)) {
                open.get(tid).values().forEach(ThreadStates::closeQuietly);
                return true;
            }
            return false;
        });
        return now;
    }

    private Optional<String> read(String tid, String file) {
        try {
            Map<String, FileChannel> files = open.computeIfAbsent(tid, t -> new HashMap<>());
            FileChannel channel = files.get(file);
            if (channel == null) {
                channel = FileChannel.open(tasks.resolve(tid).resolve(file), StandardOpenOption.READ);
                files.put(file, channel);
            }
            buffer.clear();
            channel.read(buffer, 0);
            return Optional.of(new String(buffer.array(), 0, buffer.position(), StandardCharsets.US_ASCII));
        } catch (IOException e) {
            // The thread ended between the listing and the read, or the worker may not trace it.
            return Optional.empty();
        }
    }

    @Override
    public synchronized void close() {
        open.values().forEach(files -> files.values().forEach(ThreadStates::closeQuietly));
        open.clear();
    }

    private static void closeQuietly(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException e) {
            // A read-only descriptor of a kernel file: nothing is lost.
        }
    }
}
