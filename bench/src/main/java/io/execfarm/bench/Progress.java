package io.execfarm.bench;

import java.io.PrintStream;

/**
 * What the benchmark is doing, on stderr: a line per step, with the seconds since it started, and
 * dots while requests complete.
 */
final class Progress {

    private final PrintStream out;
    private final long started = System.nanoTime();

    Progress(PrintStream out) {
        this.out = out;
    }

    PrintStream stream() {
        return out;
    }

    void say(String message) {
        out.println(prefix() + message);
    }

    private String prefix() {
        return String.format("bench [%6.1f s] ", (System.nanoTime() - started) / 1e9);
    }

    /** Starts a line that {@link Counter#tick} adds a dot to every twentieth of {@code total}. */
    Counter count(String what, int total) {
        out.print(prefix() + what + " ");
        out.flush();
        return new Counter(Math.max(1, total / 20));
    }

    final class Counter {
        private final int every;
        private int done;

        private Counter(int every) {
            this.every = every;
        }

        synchronized void tick() {
            if (++done % every == 0) {
                out.print('.');
                out.flush();
            }
        }

        void end(String summary) {
            out.println(" " + summary);
        }
    }
}
