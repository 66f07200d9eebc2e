package io.execfarm.worker.runtime;

import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The system call a thread is blocked in, as the kernel shows it in {@code /proc/<pid>/task/<tid>/syscall}
 * (its number, six arguments, the stack pointer and the program counter), as far as the rest point
 * needs it. User code cannot forge this: it is read from the kernel's record of the thread, not
 * from the process's memory.
 *
 * @param number the call's number on this machine's architecture
 * @param firstArgument its first argument (for a {@code read}, the descriptor)
 * @param stackPointer the thread's user stack pointer: where in its call stack it made the call
 */
record BlockedCall(long number, long firstArgument, long stackPointer) {

    /** {@code read}'s number on this architecture (unistd.h); empty where the worker does not know it. */
    private static final OptionalLong READ = switch (System.getProperty("os.arch", "").toLowerCase(Locale.ROOT)) {
        case "amd64", "x86_64" -> OptionalLong.of(0);
        case "aarch64", "arm64" -> OptionalLong.of(63);
        default -> OptionalLong.empty();
    };

    /** Parses a syscall file's line; empty for a running thread ({@code running}) or one in no call ({@code -1 sp pc}). */
    static Optional<BlockedCall> parse(String line) {
        String[] fields = line.strip().split(" ");
        if (fields.length != 9) {
            return Optional.empty();
        }
        try {
            return Optional.of(new BlockedCall(Long.parseLong(fields[0]), hex(fields[1]), hex(fields[7])));
        } catch (NumberFormatException | StringIndexOutOfBoundsException e) {
            return Optional.empty();
        }
    }

    private static long hex(String field) {
        return Long.parseUnsignedLong(field.substring(2), 16);
    }

    /** Whether the worker knows {@code read}'s number here; without it no call is recognised. */
    static boolean readKnown() {
        return READ.isPresent();
    }

    /** Whether this is a {@code read}, of any descriptor. */
    boolean isRead() {
        return READ.isPresent() && number == READ.getAsLong();
    }

    /** The descriptor a {@code read} reads from. */
    long readDescriptor() {
        return firstArgument;
    }
}
