package io.execfarm.contracts;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The exact bytes that clients in other languages send and receive decode to the expected records. */
class GoldenFilesTest {

    private static final String ID = "0d7b6a2c-5f1e-4c3a-8b9d-2e4f6a8c0b1d";

    private final WireCodec codec = new WireCodec();
    private final ObjectMapper plain = new ObjectMapper();

    @Test
    void minimalRequestGetsDefaults() throws Exception {
        assertEquals(ExecutionRequest.of("8c1f1a4e-3d5b-4f7e-9a51-0b8f3c2d7e61", "julia", "1 + 1"),
                codec.decodeRequest(TestFiles.read("golden/request-minimal.json")));
    }

    @Test
    void fullRequestKeepsEveryField() throws Exception {
        ExecutionRequest expected = new ExecutionRequest(ID, "julia",
                "x = [1, 2, 3]\nprintln(\"Σ = \", sum(x))\nsum(x) / length(x)", "sess-42", "acme", 5000,
                "acme.replies", new Limits(4096), Instant.parse("2026-11-21T10:15:30.123Z"),
                Instant.parse("2026-11-21T10:16:00.123Z"));
        byte[] golden = TestFiles.read("golden/request-full.json");
        assertEquals(expected, codec.decodeRequest(golden));
        assertEquals(plain.readTree(golden), plain.readTree(codec.encode(expected)));
        assertEquals("sess-42", expected.kafkaKey());
    }

    @Test
    void pythonJsonDumpsOutputDecodes() throws Exception {
        ExecutionRequest expected = new ExecutionRequest("py-client.7", "python", "print(\"café 🚀\")\n6 * 7", null,
                "grader", 1000, Topics.REPLIES, Limits.DEFAULT, Instant.parse("2026-11-21T10:15:30Z"), null);
        assertEquals(expected, codec.decodeRequest(TestFiles.read("golden/request-python-dumps.json")));
        assertEquals("py-client.7", expected.kafkaKey());
    }

    @Test
    void eventsMatchTheirGoldenBytesBothWays() throws Exception {
        assertGolden("golden/event-started.json", new Started(ID, "worker-a:1234", 12));
        assertGolden("golden/event-output.json", new Output(ID, 0, Output.Stream.STDOUT, "Σ = 6\n"));
        assertGolden("golden/event-result-ok.json", new Result(ID, Result.Status.OK, "2.0", null, false,
                new Result.Timings(12, 0, 3, 16), "worker-a:1234", 1));
        assertGolden("golden/event-result-error.json", new Result("py-client.7", Result.Status.ERROR, null,
                new Result.ErrorInfo("ZeroDivisionError", "division by zero", "  File \"<cell>\", line 1, in <module>\n"),
                true, new Result.Timings(1, 2, 3, 7), "w2", 2));
        assertGolden("golden/event-result-traced.json", new Result(ID, Result.Status.OK, "2.0", null, false,
                new Result.Timings(12, 0, 3, 16), "worker-a:1234", 2, "4bf92f3577b34da6a3ce929d0e0e4736"));
    }

    @Test
    void cancelMatchesItsGoldenBytesBothWays() throws Exception {
        byte[] golden = TestFiles.read("golden/control-cancel.json");
        assertEquals(new Cancel(ID), codec.decodeControl(golden));
        assertEquals(new String(golden, java.nio.charset.StandardCharsets.UTF_8),
                new String(codec.encode(new Cancel(ID)), java.nio.charset.StandardCharsets.UTF_8));
    }

    private void assertGolden(String file, ExecutionEvent expected) throws Exception {
        byte[] golden = TestFiles.read(file);
        assertEquals(expected, codec.decodeEvent(golden));
        assertEquals(new String(golden, java.nio.charset.StandardCharsets.UTF_8),
                new String(codec.encode(expected), java.nio.charset.StandardCharsets.UTF_8),
                "encoding must produce the documented bytes, field order included");
    }
}
