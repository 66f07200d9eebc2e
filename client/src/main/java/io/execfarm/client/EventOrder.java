package io.execfarm.client;

import io.execfarm.contracts.Display;
import io.execfarm.contracts.ExecutionEvent;
import io.execfarm.contracts.Output;
import io.execfarm.contracts.Result;
import io.execfarm.contracts.Started;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * Puts one execution's events in order and drops what was seen already, as the dispatcher does
 * for HTTP: an event's identity is its type and, for output and displays, its {@code seq}. A
 * request run again after its worker died (attempt 2) numbers its output from 0 again, so the
 * chunks the first attempt published are passed on once; a {@code started} after the first is
 * dropped; an event numbered past a gap waits for it, and the result lets out whatever still
 * waits, then ends the execution. Used by one thread at a time. Public for programs that read the
 * reply topic their own way (a Quarkus application's channel, {@code examples/quarkus-client}).
 */
public final class EventOrder {

    private final TreeMap<Long, ExecutionEvent> ahead = new TreeMap<>();
    private long nextSeq;
    private boolean started;
    private Result result;

    /** The events that {@code event} lets out, in order: none when it is a duplicate or waits for a gap. */
    public List<ExecutionEvent> accept(ExecutionEvent event) {
        if (result != null) {
            return List.of();
        }
        if (event instanceof Started) {
            if (started) {
                return List.of();
            }
            started = true;
            return List.of(event);
        }
        if (event instanceof Result ended) {
            List<ExecutionEvent> out = new ArrayList<>(ahead.values());
            ahead.clear();
            out.add(ended);
            result = ended;
            return out;
        }
        long seq = seqOf(event);
        if (seq < nextSeq) {
            return List.of();
        }
        ahead.putIfAbsent(seq, event);
        List<ExecutionEvent> out = new ArrayList<>();
        for (ExecutionEvent next = ahead.remove(nextSeq); next != null; next = ahead.remove(nextSeq)) {
            out.add(next);
            nextSeq++;
        }
        return out;
    }

    /** The result that ended the execution, or null while it runs. */
    public Result result() {
        return result;
    }

    private static long seqOf(ExecutionEvent event) {
        if (event instanceof Output output) {
            return output.seq();
        }
        if (event instanceof Display display) {
            return display.seq();
        }
        throw new IllegalArgumentException("an event of an unknown kind: " + event.type());
    }
}
