package io.execfarm.worker.runtime;

import java.nio.charset.StandardCharsets;

/** The worker's own count of a request's output bytes; drivers cut too, but are not trusted to. */
final class OutputBudget {

    private long remaining;
    private boolean exceeded;

    OutputBudget(long maxBytes) {
        this.remaining = maxBytes;
    }

    /** The part of {@code text} that fits, possibly empty; never splits a character. */
    String admit(String text) {
        int bytes = text.getBytes(StandardCharsets.UTF_8).length;
        if (bytes <= remaining) {
            remaining -= bytes;
            return text;
        }
        exceeded = true;
        int end = 0;
        while (end < text.length()) {
            int cp = text.codePointAt(end);
            int cpBytes = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
            if (cpBytes > remaining) {
                break;
            }
            remaining -= cpBytes;
            end += Character.charCount(cp);
        }
        return text.substring(0, end);
    }

    /** Whether {@code bytes} fit whole, taking them if so: a display bundle is never cut, only dropped. */
    boolean admitWhole(long bytes) {
        if (bytes <= remaining) {
            remaining -= bytes;
            return true;
        }
        exceeded = true;
        return false;
    }

    boolean exceeded() {
        return exceeded;
    }
}
