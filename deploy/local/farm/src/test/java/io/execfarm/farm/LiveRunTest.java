package io.execfarm.farm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

class LiveRunTest {

    @Test
    void resultStatusesMapToTheDocumentedExitCodes() {
        assertEquals(0, LiveRun.exitCode("ok"));
        assertEquals(1, LiveRun.exitCode("error"));
        assertEquals(1, LiveRun.exitCode("crashed"));
        assertEquals(124, LiveRun.exitCode("timeout"));
        assertEquals(2, LiveRun.exitCode("rejected"));
        assertEquals(2, LiveRun.exitCode("expired"));
        assertEquals(130, LiveRun.exitCode("cancelled"));
    }

    @Test
    void anErrorIsShownWithItsStackTraceAsTheRuntimeWouldShowIt() throws Exception {
        JsonNode result = new ObjectMapper().readTree("""
                {"status":"error","value":null,"error":{"type":"ErrorException","message":"boom",
                 "stacktrace":"  [1] error(::String) at ./error.jl:33\\n  [2] g(::Int64) at <cell r-42>:1"}}""");
        assertEquals("""
                  [1] error(::String) at ./error.jl:33
                  [2] g(::Int64) at <cell r-42>:1
                => ErrorException: boom
                """, LiveRun.summary(result));
    }

    @Test
    void aValueIsShownAfterAnArrow() throws Exception {
        assertEquals("=> 42\n", LiveRun.summary(new ObjectMapper().readTree("{\"status\":\"ok\",\"value\":\"42\",\"error\":null}")));
    }

    @Test
    void theRuntimeComesFromTheFileExtension() {
        assertEquals("julia", RunCommand.runtimeOf("examples/primes.jl"));
        assertEquals("python", RunCommand.runtimeOf("job.py"));
        assertNull(RunCommand.runtimeOf("-"));
        assertNull(RunCommand.runtimeOf("notes.txt"));
    }

    @Test
    void medianOfOddAndEvenCounts() {
        assertEquals(2.0, DemoCommand.median(new long[] {3, 1, 2}));
        assertEquals(2.5, DemoCommand.median(new long[] {4, 1, 3, 2}));
    }
}
