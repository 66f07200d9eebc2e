package io.execfarm.contracts;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Instant;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class RoundTripTest {

    private final WireCodec codec = new WireCodec();

    static Stream<ExecutionRequest> requests() {
        return Stream.of(
                ExecutionRequest.of("r1", "julia", ""),
                new ExecutionRequest("0d7b6a2c-5f1e-4c3a-8b9d-2e4f6a8c0b1d", "python", "print('héllo 🚀')\n\t\"quoted\"",
                        "s:1", "tenant.a", 1, "custom.replies", new Limits(0), Instant.parse("2026-11-21T10:15:30.123456Z"),
                        Instant.parse("2026-11-21T10:16:00Z")));
    }

    static Stream<ExecutionEvent> events() {
        return Stream.of(
                new Started("r1", "w1", 0),
                new Output("r1", 0, Output.Stream.STDOUT, ""),
                new Output("r1", Long.MAX_VALUE, Output.Stream.STDERR, "line\r\n\u0000\u001b[31mred"),
                new Result("r1", Result.Status.OK, "3", null, false, new Result.Timings(1, 2, 3, 6), "w1", 1),
                new Result("r1", Result.Status.CRASHED, null, new Result.ErrorInfo("ProcessExited", "exit code 1", null),
                        true, Result.Timings.NONE, "w1", 3),
                Result.rejected("r1", "w1", "MalformedRequest", "field 'code' is missing"),
                new Result("r1", Result.Status.EXPIRED, null, new Result.ErrorInfo("Expired", "taken after its startBy", null),
                        false, Result.Timings.NONE, "w1", 1));
    }

    @ParameterizedTest
    @MethodSource("requests")
    void requestRoundTrips(ExecutionRequest request) throws Exception {
        assertEquals(request, codec.decodeRequest(codec.encode(request)));
    }

    @ParameterizedTest
    @MethodSource("events")
    void eventRoundTrips(ExecutionEvent event) throws Exception {
        assertEquals(event, codec.decodeEvent(codec.encode(event)));
    }

    @Test
    void everyResultStatusRoundTrips() throws Exception {
        for (Result.Status status : Result.Status.values()) {
            Result result = new Result("r9", status, null, null, false, Result.Timings.NONE, "w", 1);
            assertEquals(result, codec.decodeEvent(codec.encode(result)));
        }
    }

    @Test
    void cancelRoundTrips() throws Exception {
        Cancel cancel = new Cancel("r1");
        assertEquals(cancel, codec.decodeControl(codec.encode(cancel)));
    }
}
