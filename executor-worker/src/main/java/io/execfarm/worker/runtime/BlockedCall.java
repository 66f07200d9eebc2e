package io.execfarm.worker.runtime;

import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The system call a thread is blocked in, as the kernel shows it in {@code /proc/<pid>/task/<tid>/syscall}:
 * its number, its six arguments and the thread's stack pointer. User code cannot forge this: it is
 * read from the kernel's record of the thread, not from the process's memory.
 *
 * @param number the call's number on this machine's architecture
 * @param args its six arguments, as the kernel passed them
 * @param stackPointer the thread's user stack pointer: where in its call stack it made the call
 */
record BlockedCall(long number, List<Long> args, long stackPointer) {

    /** The calls this architecture numbers differently; empty where the worker does not know them. */
    private static final Optional<Numbers> NUMBERS = Numbers.of(System.getProperty("os.arch", ""));

    /** Parses a syscall file's line; empty for a running thread ({@code running}) or one in no call ({@code -1 sp pc}). */
    static Optional<BlockedCall> parse(String line) {
        String[] fields = line.strip().split(" ");
        if (fields.length != 9) {
            return Optional.empty();
        }
        try {
            Long[] args = new Long[6];
            for (int i = 0; i < 6; i++) {
                args[i] = Long.parseUnsignedLong(fields[i + 1].substring(2), 16);
            }
            return Optional.of(new BlockedCall(Long.parseLong(fields[0]), List.of(args),
                    Long.parseUnsignedLong(fields[7].substring(2), 16)));
        } catch (NumberFormatException | StringIndexOutOfBoundsException e) {
            return Optional.empty();
        }
    }

    /** Whether this is a {@code read}, of any descriptor. */
    boolean isRead() {
        return NUMBERS.isPresent() && number == NUMBERS.get().read();
    }

    /** The descriptor a {@code read} reads from. */
    long readDescriptor() {
        return args.get(0);
    }

    /**
     * Whether the thread waits with a deadline: a sleep, or a wait for events, a futex or a signal
     * that gives up at a set time. A runtime's own idle threads wait without one; a deadline is
     * something set to wake the process later, such as a timer a request left behind.
     */
    boolean hasDeadline() {
        return NUMBERS.isPresent() && NUMBERS.get().hasDeadline(number, args);
    }

    /**
     * The call numbers of one architecture (from its unistd.h), and where each waiting call keeps
     * its timeout: a count of milliseconds (negative: none) or a pointer (null: none).
     */
    private record Numbers(long read, long epollWait, long epollPwait, long epollPwait2, long poll, long ppoll,
            long select, long pselect6, long nanosleep, long clockNanosleep, long futex, long rtSigtimedwait) {

        private static final long NONE = -1;
        /** FUTEX_WAIT and FUTEX_WAIT_BITSET, once FUTEX_PRIVATE_FLAG and FUTEX_CLOCK_REALTIME are masked off. */
        private static final long FUTEX_WAIT = 0;
        private static final long FUTEX_WAIT_BITSET = 9;
        private static final long FUTEX_FLAGS = 128 | 256;

        static Optional<Numbers> of(String arch) {
            return switch (arch.toLowerCase(Locale.ROOT)) {
                case "amd64", "x86_64" -> Optional.of(new Numbers(0, 232, 281, 441, 7, 271, 23, 270, 35, 230, 202, 128));
                case "aarch64", "arm64" -> Optional.of(new Numbers(63, NONE, 22, 441, NONE, 73, NONE, 72, 101, 115, 98,
                        137));
                default -> Optional.empty();
            };
        }

        boolean hasDeadline(long number, List<Long> args) {
            if (number == nanosleep || number == clockNanosleep) {
                return true;
            }
            if (number == epollWait || number == epollPwait) {
                return args.get(3).intValue() >= 0;
            }
            if (number == poll) {
                return args.get(2).intValue() >= 0;
            }
            if (number == epollPwait2 || number == rtSigtimedwait || number == ppoll) {
                return args.get(number == epollPwait2 ? 3 : 2) != 0;
            }
            if (number == select || number == pselect6) {
                return args.get(4) != 0;
            }
            if (number == futex) {
                long op = args.get(1) & ~FUTEX_FLAGS;
                return (op == FUTEX_WAIT || op == FUTEX_WAIT_BITSET) && args.get(3) != 0;
            }
            return false;
        }
    }
}
