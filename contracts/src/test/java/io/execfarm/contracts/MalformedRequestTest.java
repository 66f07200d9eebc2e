package io.execfarm.contracts;

import static io.execfarm.contracts.MalformedMessageException.Reason.INVALID_VALUE;
import static io.execfarm.contracts.MalformedMessageException.Reason.MISSING_FIELD;
import static io.execfarm.contracts.MalformedMessageException.Reason.NOT_AN_OBJECT;
import static io.execfarm.contracts.MalformedMessageException.Reason.NOT_JSON;
import static io.execfarm.contracts.MalformedMessageException.Reason.NOT_UTF8;
import static io.execfarm.contracts.MalformedMessageException.Reason.TOO_LARGE;
import static io.execfarm.contracts.MalformedMessageException.Reason.UNKNOWN_FIELD;
import static io.execfarm.contracts.MalformedMessageException.Reason.UNSUPPORTED_VERSION;
import static io.execfarm.contracts.MalformedMessageException.Reason.WRONG_TYPE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.execfarm.contracts.MalformedMessageException.Reason;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every kind of bad input yields a typed reason and a sentence naming the problem. */
class MalformedRequestTest {

    private final WireCodec codec = new WireCodec();

    /** file under malformed/, expected reason, a fragment the message must contain, whether a reply is possible. */
    static Stream<Arguments> table() {
        return Stream.of(
                Arguments.of("not-json.txt", NOT_JSON, "not valid JSON", false),
                Arguments.of("truncated.json", NOT_JSON, "not valid JSON", false),
                Arguments.of("empty.json", NOT_JSON, "is empty", false),
                Arguments.of("invalid-utf8.json", NOT_UTF8, "not valid UTF-8", false),
                Arguments.of("array.json", NOT_AN_OBJECT, "must be a JSON object, got an array", false),
                Arguments.of("null.json", NOT_AN_OBJECT, "must be a JSON object, got null", false),
                Arguments.of("version-2.json", UNSUPPORTED_VERSION, "protocol version 2 is not supported", true),
                Arguments.of("version-missing.json", MISSING_FIELD, "'v' is missing", true),
                Arguments.of("version-string.json", WRONG_TYPE, "'v' must be an integer, got the string \"1\"", true),
                Arguments.of("id-missing.json", MISSING_FIELD, "'id' is missing", false),
                Arguments.of("id-empty.json", INVALID_VALUE, "'id' must not be empty", false),
                Arguments.of("id-number.json", WRONG_TYPE, "'id' must be a string, got the number 42", false),
                Arguments.of("id-bad-chars.json", INVALID_VALUE, "'id' must be 1 to 128 of letters", false),
                Arguments.of("runtime-missing.json", MISSING_FIELD, "'runtime' is missing", true),
                Arguments.of("runtime-uppercase.json", INVALID_VALUE, "'runtime' must be a runtime name", true),
                Arguments.of("runtime-path.json", INVALID_VALUE, "'runtime' must be a runtime name", true),
                Arguments.of("code-missing.json", MISSING_FIELD, "'code' is missing", true),
                Arguments.of("code-number.json", WRONG_TYPE, "'code' must be a string, got the number 17", true),
                Arguments.of("timeout-string.json", WRONG_TYPE, "'timeoutMs' must be an integer", true),
                Arguments.of("timeout-zero.json", INVALID_VALUE, "'timeoutMs' must be between 1 and 3600000", true),
                Arguments.of("timeout-fraction.json", WRONG_TYPE, "'timeoutMs' must be an integer, got the number 1.5", true),
                Arguments.of("timeout-huge.json", INVALID_VALUE, "'timeoutMs' must be between", true),
                Arguments.of("timeout-nan.json", NOT_JSON, "not valid JSON", false),
                Arguments.of("unknown-field.json", UNKNOWN_FIELD, "unknown field 'timeoutMS'", true),
                Arguments.of("limits-unknown-field.json", UNKNOWN_FIELD, "unknown field 'limits.maxOutput'", true),
                Arguments.of("limits-negative.json", INVALID_VALUE, "'limits.maxOutputBytes' must be between 0", true),
                Arguments.of("limits-not-object.json", WRONG_TYPE, "'limits' must be an object", true),
                Arguments.of("replyto-invalid.json", INVALID_VALUE, "'replyTo' must be a Kafka topic name", false),
                Arguments.of("replyto-request-topic.json", INVALID_VALUE, "'replyTo' must be a topic for replies", false),
                Arguments.of("replyto-shared-request-topic.json", INVALID_VALUE, "not one of the farm's own", false),
                Arguments.of("replyto-dead-letters.json", INVALID_VALUE, "got \"execfarm.requests.dlq\"", false),
                Arguments.of("replyto-control.json", INVALID_VALUE, "got \"execfarm.control\"", false),
                Arguments.of("replyto-kafka-internal.json", INVALID_VALUE, "or Kafka's (__*)", false),
                Arguments.of("session-number.json", WRONG_TYPE, "'session' must be a string", true),
                Arguments.of("tenant-invalid.json", INVALID_VALUE, "'tenant' must be 1 to 64", true),
                Arguments.of("submitted-at-invalid.json", INVALID_VALUE, "'submittedAt' must be an ISO-8601", true),
                Arguments.of("files-dotdot.json", INVALID_VALUE, "'files[0].path' must be a relative path", true),
                Arguments.of("files-absolute.json", INVALID_VALUE, "not starting with '/', got \"/etc/passwd\"", true),
                Arguments.of("files-backslash.json", INVALID_VALUE, "'files[0].path' must be a relative path", true),
                Arguments.of("files-both-contents.json", INVALID_VALUE, "'files[0].base64' (or 'text', or 'ref') must be given, exactly one", true),
                Arguments.of("files-no-content.json", INVALID_VALUE, "'files[0].base64' (or 'text', or 'ref') must be given", true),
                Arguments.of("files-bad-base64.json", INVALID_VALUE, "'files[0].base64' must be base64", true),
                Arguments.of("files-unknown-field.json", UNKNOWN_FIELD, "unknown field 'files[0].mode'", true),
                Arguments.of("files-not-array.json", WRONG_TYPE, "'files' must be an array", true),
                Arguments.of("collect-dotdot.json", INVALID_VALUE, "'collect[0]' must be a relative glob", true),
                Arguments.of("collect-absolute.json", INVALID_VALUE, "'collect[0]' must be a relative glob", true),
                Arguments.of("collect-number.json", INVALID_VALUE, "'collect[0]' must be a relative glob", true),
                Arguments.of("duplicate-key.json", NOT_JSON, "Duplicate field 'id'", false),
                Arguments.of("trailing-garbage.json", NOT_JSON, "not valid JSON", false));
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("table")
    void malformedFileIsRejectedWithReason(String file, Reason reason, String fragment, boolean canReply) {
        MalformedMessageException e = assertThrows(MalformedMessageException.class,
                () -> codec.decodeRequest(TestFiles.read("malformed/" + file)));
        assertEquals(reason, e.reason(), e.getMessage());
        assertTrue(e.getMessage().contains(fragment), () -> "message was: " + e.getMessage());
        assertEquals(canReply, e.canReply(), "whether the sender can be told");
        if (canReply) {
            assertEquals(Optional.of("a1"), e.requestId());
            assertEquals(Optional.of(Topics.REPLIES), e.replyTo());
        }
    }

    @Test
    void tableCoversEveryFileInTheFolder() throws Exception {
        java.nio.file.Path folder = java.nio.file.Path.of(MalformedRequestTest.class.getResource("/malformed").toURI());
        try (Stream<java.nio.file.Path> files = java.nio.file.Files.list(folder)) {
            assertEquals(table().map(a -> a.get()[0]).sorted().toList(),
                    files.map(p -> p.getFileName().toString()).sorted().toList());
        }
    }

    @Test
    void codeOverTheLimitIsTooLarge() {
        WireCodec small = new WireCodec(1000);
        MalformedMessageException e = assertThrows(MalformedMessageException.class,
                () -> small.decodeRequest(requestWithCode("a".repeat(1001))));
        assertEquals(TOO_LARGE, e.reason());
        assertTrue(e.getMessage().contains("1001 bytes of UTF-8, over the limit of 1000 bytes"), e.getMessage());
        assertTrue(e.canReply());
    }

    @Test
    void codeLimitCountsUtf8BytesNotCharacters() throws Exception {
        WireCodec small = new WireCodec(1000);
        assertEquals(500, small.decodeRequest(requestWithCode("é".repeat(500))).code().length());
        MalformedMessageException e = assertThrows(MalformedMessageException.class,
                () -> small.decodeRequest(requestWithCode("é".repeat(501))));
        assertEquals(TOO_LARGE, e.reason());
    }

    @Test
    void defaultLimitIsOneMebibyte() throws Exception {
        assertEquals(1 << 20, codec.decodeRequest(requestWithCode("x".repeat(1 << 20))).code().length());
        assertEquals(TOO_LARGE, assertThrows(MalformedMessageException.class,
                () -> codec.decodeRequest(requestWithCode("x".repeat((1 << 20) + 1)))).reason());
    }

    @Test
    void hugeRecordIsRefusedBeforeParsing() {
        byte[] huge = new byte[(1000 * 6) + WireCodec.ENVELOPE_BYTES + 1];
        java.util.Arrays.fill(huge, (byte) '[');
        MalformedMessageException e = assertThrows(MalformedMessageException.class,
                () -> new WireCodec(1000).decodeRequest(huge));
        assertEquals(TOO_LARGE, e.reason());
        assertFalse(e.canReply());
    }

    @Test
    void deeplyNestedInputIsAnErrorNotACrash() {
        String deep = "{\"v\":1,\"id\":\"a1\",\"runtime\":\"julia\",\"code\":\"1\",\"limits\":" + "[".repeat(5000);
        MalformedMessageException e = assertThrows(MalformedMessageException.class,
                () -> codec.decodeRequest(deep.getBytes(StandardCharsets.UTF_8)));
        assertEquals(NOT_JSON, e.reason());
    }

    @Test
    void malformedEventsAndControlMessagesAreTyped() {
        assertEquals(INVALID_VALUE, assertThrows(MalformedMessageException.class, () -> codec.decodeEvent(
                "{\"v\":1,\"type\":\"finished\",\"requestId\":\"a1\"}".getBytes(StandardCharsets.UTF_8))).reason());
        assertEquals(INVALID_VALUE, assertThrows(MalformedMessageException.class, () -> codec.decodeEvent(
                "{\"v\":1,\"type\":\"output\",\"requestId\":\"a1\",\"seq\":0,\"stream\":\"stdin\",\"text\":\"\"}"
                        .getBytes(StandardCharsets.UTF_8))).reason());
        assertEquals(UNSUPPORTED_VERSION, assertThrows(MalformedMessageException.class, () -> codec.decodeControl(
                "{\"v\":3,\"type\":\"cancel\",\"requestId\":\"a1\"}".getBytes(StandardCharsets.UTF_8))).reason());
        assertEquals(MISSING_FIELD, assertThrows(MalformedMessageException.class, () -> codec.decodeControl(
                "{\"v\":1,\"type\":\"cancel\"}".getBytes(StandardCharsets.UTF_8))).reason());
    }

    static byte[] requestWithCode(String code) {
        return ("{\"v\":1,\"id\":\"a1\",\"runtime\":\"julia\",\"code\":\"" + code + "\"}").getBytes(StandardCharsets.UTF_8);
    }
}
