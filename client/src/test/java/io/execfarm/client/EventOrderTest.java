package io.execfarm.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.execfarm.contracts.Display;
import io.execfarm.contracts.ExecutionEvent;
import io.execfarm.contracts.Output;
import io.execfarm.contracts.Result;
import io.execfarm.contracts.Started;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EventOrderTest {

    private final EventOrder order = new EventOrder();
    private final List<ExecutionEvent> out = new ArrayList<>();

    @Test
    void eventsInOrderPassAsTheyCome() {
        feed(started(), output(0, "a"), display(1), output(2, "b"), result("w1"));
        assertEquals(List.of(started(), output(0, "a"), display(1), output(2, "b"), result("w1")), out);
    }

    @Test
    void aSecondAttemptNumberingFromZeroAddsOnlyWhatTheFirstDidNotPublish() {
        feed(started(), output(0, "a"), output(1, "b"), started(), output(0, "a"), output(1, "b"), output(2, "c"),
                result("w2"));
        assertEquals(List.of(started(), output(0, "a"), output(1, "b"), output(2, "c"), result("w2")), out);
    }

    @Test
    void anEventPastAGapWaitsForItAndTheResultLetsOutWhatStillWaits() {
        feed(output(1, "b"));
        assertEquals(List.of(), out, "seq 1 waits for seq 0");
        feed(output(0, "a"));
        assertEquals(List.of(output(0, "a"), output(1, "b")), out);
        feed(output(3, "d"), result("w1"));
        assertEquals(List.of(output(0, "a"), output(1, "b"), output(3, "d"), result("w1")), out);
    }

    @Test
    void nothingPassesAfterTheResultAndTheFirstResultIsKept() {
        assertNull(order.result());
        feed(result("w1"), output(0, "late"), started(), result("w2"));
        assertEquals(List.of(result("w1")), out);
        assertEquals(result("w1"), order.result());
    }

    private void feed(ExecutionEvent... events) {
        for (ExecutionEvent event : events) {
            out.addAll(order.accept(event));
        }
    }

    private static Started started() {
        return new Started("r", "w1", 0);
    }

    private static Output output(long seq, String text) {
        return new Output("r", seq, Output.Stream.STDOUT, text);
    }

    private static Display display(long seq) {
        return new Display("r", seq, Map.of("text/plain", "picture"));
    }

    private static Result result(String worker) {
        return new Result("r", Result.Status.OK, "1", null, false, Result.Timings.NONE, worker, 1, null, List.of());
    }
}
