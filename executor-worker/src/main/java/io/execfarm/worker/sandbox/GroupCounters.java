package io.execfarm.worker.sandbox;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * What the kernel counts in one process's control groups, read from files kept open: a cgroup file
 * is generated anew on each read from its start, and a read through an open descriptor spares the
 * path lookup, open and close that cost most of a read (measured here: 2-5 µs against 26 µs).
 * These reads run after every request and as every process is handed out.
 */
public final class GroupCounters implements Closeable {

    private final CgroupVersion version;
    private final FileChannel tasks;
    /** The pids group, whose cgroup.procs is read afresh each time (see {@link #processes}). */
    private final Path pidsGroup;
    private final FileChannel memoryStat;
    private final Optional<FileChannel> cpu;
    private final ByteBuffer buffer = ByteBuffer.allocate(16 * 1024);

    private GroupCounters(CgroupVersion version, FileChannel tasks, Path pidsGroup, FileChannel memoryStat,
            Optional<FileChannel> cpu) {
        this.version = version;
        this.tasks = tasks;
        this.pidsGroup = pidsGroup;
        this.memoryStat = memoryStat;
        this.cpu = cpu;
    }

    static GroupCounters open(ProcessCgroup group) throws IOException {
        List<FileChannel> opened = new ArrayList<>();
        try {
            FileChannel tasks = open(group.pids().resolve("pids.current"), opened);
            FileChannel memoryStat = open(group.memory().resolve("memory.stat"), opened);
            Optional<FileChannel> cpu = group.cpu().isPresent() ? Optional.of(open(group.cpu().get()
                    .resolve(group.version() == CgroupVersion.V1 ? "cpuacct.usage" : "cpu.stat"), opened)) : Optional.empty();
            return new GroupCounters(group.version(), tasks, group.pids(), memoryStat, cpu);
        } catch (IOException e) {
            for (FileChannel channel : opened) {
                channel.close();
            }
            throw e;
        }
    }

    private static FileChannel open(Path file, List<FileChannel> opened) throws IOException {
        FileChannel channel = FileChannel.open(file, StandardOpenOption.READ);
        opened.add(channel);
        return channel;
    }

    /** Its tasks now, threads included (pids.current), or -1 when that cannot be read. */
    public synchronized long tasks() {
        try {
            return Long.parseLong(read(tasks).strip());
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
    }

    /**
     * The processes in the group now; empty when that cannot be read. Opened afresh each time:
     * cgroup v1 builds a cgroup.procs list once per open file and serves it again on a re-read.
     */
    public List<Long> processes() {
        try {
            return Cgroups.processes(pidsGroup);
        } catch (IOException | NumberFormatException e) {
            return List.of();
        }
    }

    /** The CPU time its tasks used so far, in nanoseconds; empty where its groups do not count it. */
    public synchronized OptionalLong cpuNanos() {
        try {
            if (cpu.isEmpty()) {
                return OptionalLong.empty();
            }
            String text = read(cpu.get());
            return OptionalLong.of(version == CgroupVersion.V1 ? Long.parseLong(text.strip())
                    : ProcessCgroup.counter(text, "usage_usec") * 1000);
        } catch (IOException | NumberFormatException e) {
            return OptionalLong.empty();
        }
    }

    /**
     * The shared memory charged to it: files on its tmpfs mounts (working directory, /tmp,
     * /dev/shm) and memfds, which outlive a request unless deleted and which resident memory does
     * not show; -1 when that cannot be read.
     */
    public synchronized long sharedMemoryBytes() {
        try {
            return ProcessCgroup.counter(read(memoryStat), "shmem");
        } catch (IOException e) {
            return -1;
        }
    }

    private String read(FileChannel channel) throws IOException {
        buffer.clear();
        int read;
        do {
            read = channel.read(buffer, buffer.position());
        } while (read > 0 && buffer.hasRemaining());
        return new String(buffer.array(), 0, buffer.position(), StandardCharsets.US_ASCII);
    }

    @Override
    public synchronized void close() {
        for (FileChannel channel : List.of(tasks, memoryStat)) {
            try {
                channel.close();
            } catch (IOException e) {
                // Closing a read-only descriptor of a kernel file loses nothing.
            }
        }
        cpu.ifPresent(channel -> {
            try {
                channel.close();
            } catch (IOException e) {
                // As above.
            }
        });
    }
}
