package io.execfarm.worker.messaging;

import io.execfarm.contracts.Display;
import io.execfarm.contracts.ExecutionEvent;
import io.execfarm.contracts.Output;
import io.execfarm.worker.runtime.OutputSink;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Turns a request's output chunks into few {@link Output} events: consecutive chunks of the same
 * stream are merged until {@code maxBytes} or until the first of them has waited {@code linger};
 * a switch of stream always starts a new event. A display bundle publishes what is pending first,
 * then itself. Events are numbered from 0 without gaps, display bundles among them, and handed to
 * {@code publish} in order, one at a time.
 */
final class OutputBatcher implements OutputSink {

    private final String requestId;
    private final int maxChars;
    private final Duration linger;
    private final ScheduledExecutorService timer;
    private final Consumer<ExecutionEvent> publish;

    private final StringBuilder pending = new StringBuilder();
    private Output.Stream pendingStream;
    private ScheduledFuture<?> lingering;
    private long nextSeq;
    private long publishedBytes;

    OutputBatcher(String requestId, int maxChars, Duration linger, ScheduledExecutorService timer,
            Consumer<ExecutionEvent> publish) {
        this.requestId = requestId;
        this.maxChars = maxChars;
        this.linger = linger;
        this.timer = timer;
        this.publish = publish;
    }

    @Override
    public synchronized void accept(Output.Stream stream, String text) {
        if (pendingStream != null && pendingStream != stream) {
            flush();
        }
        int offset = 0;
        while (offset < text.length()) {
            int take = Math.min(text.length() - offset, maxChars - pending.length());
            // Never split a surrogate pair between two events.
            if (take < text.length() - offset && take > 0 && Character.isHighSurrogate(text.charAt(offset + take - 1))) {
                take--;
            }
            pending.append(text, offset, offset + take);
            pendingStream = stream;
            offset += take;
            if (pending.length() >= maxChars - 1) {
                flush();
            }
        }
        if (pending.length() > 0 && lingering == null) {
            lingering = timer.schedule(this::flush, linger.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    @Override
    public synchronized void display(Map<String, String> data) {
        flush();
        publish.accept(new Display(requestId, nextSeq++, data));
    }

    /** UTF-8 bytes of output handed to {@code publish} so far. */
    synchronized long publishedBytes() {
        return publishedBytes;
    }

    /** Publishes what is pending. */
    synchronized void flush() {
        if (lingering != null) {
            lingering.cancel(false);
            lingering = null;
        }
        if (pending.length() == 0) {
            return;
        }
        String text = pending.toString();
        publishedBytes += text.getBytes(StandardCharsets.UTF_8).length;
        publish.accept(new Output(requestId, nextSeq++, pendingStream, text));
        pending.setLength(0);
        pendingStream = null;
    }
}
