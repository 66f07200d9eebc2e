package io.execfarm.contracts;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
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

    /** Text files decode to their UTF-8 bytes, and encode back as base64 like any other. */
    @Test
    void aRequestWithFilesKeepsTheirBytesAndItsGlobs() throws Exception {
        ExecutionRequest decoded = codec.decodeRequest(TestFiles.read("golden/request-files.json"));
        assertEquals(List.of("data/points.csv", "model.bin", "data/large.parquet"),
                decoded.files().stream().map(InputFile::path).toList());
        assertEquals(InputFile.stored("data/large.parquet", "3f2a9c7e-0b1d-4e5f-8a6b-7c8d9e0f1a2b"), decoded.files().get(2));
        assertArrayEquals("x,y\n1,2\n3,4\n".getBytes(StandardCharsets.UTF_8), decoded.files().get(0).bytes());
        assertArrayEquals(new byte[] {0, 1, 2, 3}, decoded.files().get(1).bytes());
        assertEquals(List.of("out/*.txt", "**/*.png"), decoded.collect());
        assertEquals(decoded, codec.decodeRequest(codec.encode(decoded)));
        assertFalse(new String(codec.encode(ExecutionRequest.of(ID, "python", "1")), StandardCharsets.UTF_8).contains("files"),
                "a request without files says nothing of them, for readers that know no such field");
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
        assertGolden("golden/event-display.json", new Display(ID, 3, Map.of("image/png", "iVBORw0KGgo=",
                "text/plain", "<Figure size 640x480 with 1 Axes>")));
        assertGolden("golden/event-result-files.json", new Result(ID, Result.Status.OK, null, null, false,
                new Result.Timings(12, 0, 3, 16), "worker-a:1234", 1, null, List.of(
                        CollectedFile.inline("out/summary.txt", 1,
                                "4e07408562bedb8b60ce05c1decfe3ad16b72230967de01f640b7e4729b49fce", "Mw=="),
                        CollectedFile.inline("out/plot.png", 2400000,
                                "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "x")
                                .storedAs("5d1e8f3a-9b7c-4a2d-8e6f-1c3b5a7d9e0f"),
                        CollectedFile.refused("out/link.txt",
                                "NotARegularFile: a symbolic link; only regular files are collected"))));
    }

    @Test
    void cancelMatchesItsGoldenBytesBothWays() throws Exception {
        byte[] golden = TestFiles.read("golden/control-cancel.json");
        assertEquals(new Cancel(ID), codec.decodeControl(golden));
        assertEquals(new String(golden, java.nio.charset.StandardCharsets.UTF_8),
                new String(codec.encode(new Cancel(ID)), java.nio.charset.StandardCharsets.UTF_8));
    }

    @Test
    void sessionCommandsMatchTheirGoldenBytesBothWays() throws Exception {
        String session = "7f3c9a1e-2b4d-4e6f-8a0c-1d3e5f7a9b2c";
        Map<String, SessionCommand> commands = Map.of(
                "golden/session-open.json", new OpenSession("op-1", session, "julia", 600_000L, "execfarm.tenant.acme.replies"),
                "golden/session-close.json", new CloseSession("op-2", session, "execfarm.tenant.acme.replies"));
        for (Map.Entry<String, SessionCommand> command : commands.entrySet()) {
            byte[] golden = TestFiles.read(command.getKey());
            assertEquals(command.getValue(), codec.decodeSessionCommand(golden));
            assertEquals(new String(golden, java.nio.charset.StandardCharsets.UTF_8),
                    new String(codec.encode(command.getValue()), java.nio.charset.StandardCharsets.UTF_8));
        }
        assertEquals(new OpenSession("op-3", session, "python", null, "execfarm.tenant.acme.replies"),
                codec.decodeSessionCommand(("{\"v\":1,\"type\":\"openSession\",\"id\":\"op-3\",\"session\":\"" + session
                        + "\",\"runtime\":\"python\",\"replyTo\":\"execfarm.tenant.acme.replies\"}")
                        .getBytes(java.nio.charset.StandardCharsets.UTF_8)), "the idle timeout is optional");
    }

    private void assertGolden(String file, ExecutionEvent expected) throws Exception {
        byte[] golden = TestFiles.read(file);
        assertEquals(expected, codec.decodeEvent(golden));
        assertEquals(new String(golden, java.nio.charset.StandardCharsets.UTF_8),
                new String(codec.encode(expected), java.nio.charset.StandardCharsets.UTF_8),
                "encoding must produce the documented bytes, field order included");
    }
}
