package io.execfarm.worker.runtime;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/**
 * A process's POSIX timers (timer_create), as the kernel lists them in /proc/&lt;pid&gt;/timers, one
 * "ID:" entry each: a timer a request armed is no thread and uses no CPU until it fires, with a
 * signal, during a later request. The file is kept open and read again from its start. Reading
 * it takes the right to trace the process (CAP_SYS_PTRACE, for a process of another uid); where
 * the worker lacks it, the file cannot be opened and the check has no evidence.
 */
final class ProcessTimers implements Closeable {

    /** Enough for a few entries (about 70 bytes each): more than the process had at rest is all that matters. */
    private final ByteBuffer buffer = ByteBuffer.allocate(1024);
    private final FileChannel file;

    private ProcessTimers(FileChannel file) {
        this.file = file;
    }

    /** The process's timers file; empty where the kernel has none (it comes with CONFIG_CHECKPOINT_RESTORE). */
    static Optional<ProcessTimers> open(long pid) {
        try {
            return Optional.of(new ProcessTimers(FileChannel.open(Path.of("/proc", Long.toString(pid), "timers"),
                    StandardOpenOption.READ)));
        } catch (IOException | UnsupportedOperationException e) {
            return Optional.empty();
        }
    }

    /** How many timers it has, counted in the file's first kilobyte; -1 when the file cannot be read. */
    synchronized int count() {
        try {
            buffer.clear();
            file.read(buffer, 0);
        } catch (IOException e) {
            return -1;
        }
        String listed = new String(buffer.array(), 0, buffer.position(), StandardCharsets.US_ASCII);
        int count = 0;
        for (int at = listed.indexOf("ID:"); at >= 0; at = listed.indexOf("ID:", at + 3)) {
            count++;
        }
        return count;
    }

    @Override
    public synchronized void close() {
        try {
            file.close();
        } catch (IOException e) {
            // A read-only descriptor of a kernel file: nothing is lost.
        }
    }
}
