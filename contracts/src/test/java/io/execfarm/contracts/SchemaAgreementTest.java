package io.execfarm.contracts;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.io.InputStream;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The JSON Schemas shipped for other languages accept exactly what the codec accepts, judged by an
 * independent validator on every golden and malformed file.
 */
class SchemaAgreementTest {

    /**
     * A strict RFC 8259 reader for the schema side: a schema cannot say "names are unique" or "one
     * value per document", so the parser does, as the codec's does.
     */
    private static final ObjectMapper JSON = com.fasterxml.jackson.databind.json.JsonMapper.builder()
            .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();
    private final WireCodec codec = new WireCodec();

    static Stream<String> malformedFiles() {
        return MalformedRequestTest.table().map(a -> (String) a.get()[0]);
    }

    @ParameterizedTest
    @MethodSource("malformedFiles")
    void schemaRejectsWhatTheCodecRejects(String file) {
        byte[] bytes = TestFiles.read("malformed/" + file);
        assertThrows(MalformedMessageException.class, () -> codec.decodeRequest(bytes));
        assertFalse(schemaAccepts("request", bytes), file + " must fail the request schema");
    }

    @ParameterizedTest
    @MethodSource("io.execfarm.contracts.SchemaAgreementTest#goldenRequests")
    void schemaAcceptsGoldenRequests(String file) {
        byte[] bytes = TestFiles.read("golden/" + file);
        assertDoesNotThrow(() -> codec.decodeRequest(bytes));
        assertTrue(schemaAccepts("request", bytes), file);
    }

    static Stream<String> goldenRequests() {
        return Stream.of("request-minimal.json", "request-full.json", "request-python-dumps.json", "request-files.json");
    }

    @Test
    void schemaAcceptsGoldenEventsAndControl() {
        for (String file : Set.of("event-started.json", "event-output.json", "event-result-ok.json",
                "event-result-error.json", "event-result-traced.json", "event-display.json", "event-result-files.json")) {
            assertTrue(schemaAccepts("event", TestFiles.read("golden/" + file)), file);
        }
        assertTrue(schemaAccepts("control", TestFiles.read("golden/control-cancel.json")));
    }

    @Test
    void schemaAndCodecAgreeOnOversizedAsciiCode() {
        byte[] bytes = MalformedRequestTest.requestWithCode("x".repeat((1 << 20) + 1));
        assertThrows(MalformedMessageException.class, () -> codec.decodeRequest(bytes));
        assertFalse(schemaAccepts("request", bytes));
    }

    @Test
    void schemaAndCodecAgreeOnSessionCommands() {
        for (String file : List.of("session-open.json", "session-close.json")) {
            assertTrue(schemaAccepts("session-command", TestFiles.read("golden/" + file)), file);
        }
        String head = "{\"v\":1,\"id\":\"op-1\",\"session\":\"s1\",";
        for (String bad : List.of(
                head + "\"type\":\"openSession\",\"replyTo\":\"execfarm.tenant.a.replies\"}",
                head + "\"type\":\"openSession\",\"runtime\":\"python\",\"replyTo\":\"execfarm.control\"}",
                head + "\"type\":\"openSession\",\"runtime\":\"python\",\"replyTo\":\"execfarm.tenant.a.replies\",\"idle\":1}",
                head + "\"type\":\"closeSession\",\"runtime\":\"python\",\"replyTo\":\"execfarm.tenant.a.replies\"}",
                head + "\"type\":\"pauseSession\",\"replyTo\":\"execfarm.tenant.a.replies\"}",
                "{\"v\":1,\"type\":\"closeSession\",\"id\":\"op-1\",\"replyTo\":\"execfarm.tenant.a.replies\"}")) {
            byte[] bytes = bad.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            assertThrows(MalformedMessageException.class, () -> codec.decodeSessionCommand(bytes), bad);
            assertFalse(schemaAccepts("session-command", bytes), bad);
        }
    }

    @Test
    void schemaRejectsEventsTheCodecRejects() {
        byte[] badStream = "{\"v\":1,\"type\":\"output\",\"requestId\":\"a1\",\"seq\":0,\"stream\":\"stdin\",\"text\":\"\"}"
                .getBytes(java.nio.charset.StandardCharsets.UTF_8);
        assertThrows(MalformedMessageException.class, () -> codec.decodeEvent(badStream));
        assertFalse(schemaAccepts("event", badStream));
    }

    private static boolean schemaAccepts(String kind, byte[] bytes) {
        JsonNode node;
        try {
            node = JSON.readTree(java.nio.charset.StandardCharsets.UTF_8.newDecoder()
                    .decode(java.nio.ByteBuffer.wrap(bytes)).toString());
        } catch (Exception unparseable) {
            return false;
        }
        if (node == null || node.isMissingNode()) {
            return false;
        }
        Set<ValidationMessage> errors = schema(kind).validate(node);
        return errors.isEmpty();
    }

    private static JsonSchema schema(String kind) {
        try (InputStream in = SchemaAgreementTest.class.getResourceAsStream("/schema/" + kind + ".v1.schema.json")) {
            return JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012).getSchema(in);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
