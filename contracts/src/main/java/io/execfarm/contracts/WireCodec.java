package io.execfarm.contracts;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import io.execfarm.contracts.MalformedMessageException.Reason;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The one JSON codec of protocol v1, used by every module.
 *
 * <p>Decoding is strict and total: any input either yields a valid record or a
 * {@link MalformedMessageException} whose message says what is wrong; nothing unchecked escapes.
 * Requests reject unknown fields, because clients write them by hand and a misspelt
 * {@code timeoutMS} silently ignored would be worse than an error. Events and control messages
 * tolerate unknown fields, so readers keep working when a later v1 writer adds one.
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class WireCodec {

    /** Default ceiling on a request's code, in UTF-8 bytes. */
    public static final int DEFAULT_MAX_CODE_BYTES = 1 << 20;

    private static final Set<String> REQUEST_FIELDS = Set.of("v", "id", "runtime", "code", "session", "tenant",
            "timeoutMs", "replyTo", "limits", "submittedAt", "startBy", "files", "collect");
    private static final Set<String> FILE_FIELDS = Set.of("path", "base64", "text", "ref");
    private static final Set<String> LIMITS_FIELDS = Set.of("maxOutputBytes");
    /**
     * Room for the JSON around the code (escapes can grow code by at most 6x, \\uXXXX per byte),
     * files included (base64, 4/3 of their bytes, or text escaped as code is).
     */
    static final int ENVELOPE_BYTES = 64 * 1024 + InputFile.MAX_TOTAL_BYTES * 6;

    private final ObjectMapper mapper;
    private final int maxCodeBytes;

    public WireCodec(int maxCodeBytes) {
        if (maxCodeBytes < 1) {
            throw new IllegalArgumentException("maxCodeBytes must be positive: " + maxCodeBytes);
        }
        this.maxCodeBytes = maxCodeBytes;
        this.mapper = JsonMapper.builder()
                .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                .disable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
                .addModule(new JavaTimeModule())
                .build();
    }

    public WireCodec() {
        this(DEFAULT_MAX_CODE_BYTES);
    }

    public int maxCodeBytes() {
        return maxCodeBytes;
    }

    public byte[] encode(ExecutionRequest request) {
        return write(request);
    }

    public byte[] encode(ExecutionEvent event) {
        return write(event);
    }

    public byte[] encode(ControlMessage message) {
        return write(message);
    }

    public byte[] encode(SessionCommand command) {
        return write(command);
    }

    public ExecutionRequest decodeRequest(byte[] bytes) throws MalformedMessageException {
        if (bytes != null && bytes.length > (long) maxCodeBytes * 6 + ENVELOPE_BYTES) {
            throw new MalformedMessageException(Reason.TOO_LARGE,
                    "request is " + bytes.length + " bytes, far over the code limit of " + maxCodeBytes + " bytes");
        }
        JsonNode tree = parse(bytes, "request");
        try {
            return readRequest(JsonObjectReader.of(tree, "a request"));
        } catch (MalformedMessageException e) {
            throw e.withSender(readableId(tree), readableReplyTo(tree));
        }
    }

    public ExecutionEvent decodeEvent(byte[] bytes) throws MalformedMessageException {
        JsonObjectReader json = JsonObjectReader.of(parse(bytes, "event"), "an event");
        requireVersion(json);
        String type = json.requiredString("type");
        String requestId = json.requiredMatching("requestId", WireNames.ID, idRule());
        return switch (type) {
            case Started.TYPE -> new Started(requestId, json.requiredString("workerId"),
                    json.requiredLong("queuedMs", 0, Long.MAX_VALUE));
            case Output.TYPE -> new Output(requestId, json.requiredLong("seq", 0, Long.MAX_VALUE),
                    enumOf(Output.Stream.class, json, "stream"), json.requiredString("text"));
            case Display.TYPE -> readDisplay(requestId, json);
            case Result.TYPE -> readResult(requestId, json);
            default -> throw json.invalid("type", "must be one of started, output, display, result, got \"" + type + "\"");
        };
    }

    public ControlMessage decodeControl(byte[] bytes) throws MalformedMessageException {
        JsonObjectReader json = JsonObjectReader.of(parse(bytes, "control message"), "a control message");
        requireVersion(json);
        String type = json.requiredString("type");
        if (!Cancel.TYPE.equals(type)) {
            throw json.invalid("type", "must be cancel, got \"" + type + "\"");
        }
        return new Cancel(json.requiredMatching("requestId", WireNames.ID, idRule()));
    }

    /**
     * A session command from a tenant's ingress topic. Strict, like a request: a command is written by
     * hand as often, and a misspelt field must not fall back silently.
     */
    public SessionCommand decodeSessionCommand(byte[] bytes) throws MalformedMessageException {
        JsonNode tree = parse(bytes, "session command");
        try {
            JsonObjectReader json = JsonObjectReader.of(tree, "a session command");
            requireVersion(json);
            String type = json.requiredString("type");
            String id = json.requiredMatching("id", WireNames.ID, idRule());
            String session = json.requiredMatching("session", WireNames.ID, idRule());
            String replyTo = json.requiredMatching("replyTo", WireNames.TOPIC, "must be a topic name");
            if (Topics.isFarmOwned(replyTo)) {
                throw json.invalid("replyTo", "must be a topic for replies, not one of the farm's own, got \"" + replyTo
                        + "\"");
            }
            switch (type) {
                case OpenSession.TYPE -> {
                    json.allowOnly(Set.of("v", "type", "id", "session", "runtime", "idleTimeoutMs", "replyTo"));
                    String runtime = json.requiredMatching("runtime", WireNames.RUNTIME,
                            "must be a runtime name: a lower-case letter, then up to 31 of a-z, 0-9, '_' or '-'");
                    long idle = json.optionalLong("idleTimeoutMs", 0, 1, Long.MAX_VALUE);
                    return new OpenSession(id, session, runtime, idle == 0 ? null : idle, replyTo);
                }
                case CloseSession.TYPE -> {
                    json.allowOnly(Set.of("v", "type", "id", "session", "replyTo"));
                    return new CloseSession(id, session, replyTo);
                }
                default -> throw json.invalid("type", "must be openSession or closeSession, got \"" + type + "\"");
            }
        } catch (MalformedMessageException e) {
            throw e.withSender(readableId(tree), readableReplyTo(tree));
        }
    }

    private ExecutionRequest readRequest(JsonObjectReader json) throws MalformedMessageException {
        requireVersion(json);
        json.allowOnly(REQUEST_FIELDS);
        String id = json.requiredMatching("id", WireNames.ID, idRule());
        String runtime = json.requiredMatching("runtime", WireNames.RUNTIME,
                "must be a runtime name: a lower-case letter, then up to 31 of a-z, 0-9, '_' or '-'");
        String code = json.requiredString("code");
        int codeBytes = code.getBytes(StandardCharsets.UTF_8).length;
        if (codeBytes > maxCodeBytes) {
            throw new MalformedMessageException(Reason.TOO_LARGE,
                    "field 'code' is " + codeBytes + " bytes of UTF-8, over the limit of " + maxCodeBytes + " bytes");
        }
        String session = json.optionalMatching("session", WireNames.ID, idRule());
        String tenant = json.optionalMatching("tenant", WireNames.TENANT,
                "must be 1 to 64 of letters, digits, '.', '_' or '-'");
        long timeoutMs = json.optionalLong("timeoutMs", ExecutionRequest.DEFAULT_TIMEOUT_MS, 1,
                ExecutionRequest.MAX_TIMEOUT_MS);
        String replyTo = json.optionalMatching("replyTo", WireNames.TOPIC,
                "must be a Kafka topic name: 1 to 249 of letters, digits, '.', '_' or '-'");
        if (replyTo != null && Topics.isFarmOwned(replyTo)) {
            throw json.invalid("replyTo", "must be a topic for replies, not one of the farm's own (" + Topics.REQUESTS_PREFIX
                    + "*, " + Topics.CONTROL + ") or Kafka's (__*), got \"" + replyTo + "\"");
        }
        Limits limits = readLimits(json.optionalObject("limits"));
        Instant submittedAt = readInstant(json, "submittedAt");
        Instant startBy = readInstant(json, "startBy");
        List<InputFile> files = readFiles(json);
        List<String> collect = new ArrayList<>();
        List<JsonNode> globs = json.optionalArray("collect", WirePaths.MAX_GLOBS);
        for (int i = 0; i < globs.size(); i++) {
            JsonNode glob = globs.get(i);
            if (!glob.isTextual() || !WirePaths.isGlob(glob.textValue())) {
                throw json.invalid("collect[" + i + "]", WirePaths.rule("glob") + ", got " + JsonObjectReader.describe(glob));
            }
            collect.add(glob.textValue());
        }
        return new ExecutionRequest(id, runtime, code, session,
                tenant != null ? tenant : ExecutionRequest.DEFAULT_TENANT, timeoutMs,
                replyTo != null ? replyTo : Topics.REPLIES, limits, submittedAt, startBy, files, collect);
    }

    private static List<InputFile> readFiles(JsonObjectReader json) throws MalformedMessageException {
        List<InputFile> files = new ArrayList<>();
        Set<String> paths = new HashSet<>();
        long total = 0;
        List<JsonNode> nodes = json.optionalArray("files", InputFile.MAX_FILES);
        for (int i = 0; i < nodes.size(); i++) {
            JsonObjectReader file = json.element("files", i, nodes.get(i));
            file.allowOnly(FILE_FIELDS);
            String path = file.requiredString("path");
            if (!WirePaths.isFile(path)) {
                throw file.invalid("path", WirePaths.rule("path") + ", got \"" + path + "\"");
            }
            if (!paths.add(path)) {
                throw file.invalid("path", "names a file that an earlier entry names too: \"" + path + "\"");
            }
            String base64 = file.optionalString("base64");
            String text = file.optionalString("text");
            String ref = file.optionalMatching("ref", WireNames.ID, idRule());
            if ((base64 != null ? 1 : 0) + (text != null ? 1 : 0) + (ref != null ? 1 : 0) != 1) {
                throw file.invalid("base64", "(or 'text', or 'ref') must be given, exactly one of them");
            }
            if (ref != null) {
                files.add(InputFile.stored(path, ref));
                continue;
            }
            byte[] bytes;
            try {
                bytes = text != null ? text.getBytes(StandardCharsets.UTF_8) : Base64.getDecoder().decode(base64);
            } catch (IllegalArgumentException e) {
                throw file.invalid("base64", "must be base64 (RFC 4648, with padding): " + e.getMessage());
            }
            total += bytes.length;
            if (total > InputFile.MAX_TOTAL_BYTES) {
                throw new MalformedMessageException(Reason.TOO_LARGE, "the request's files hold more than "
                        + InputFile.MAX_TOTAL_BYTES + " bytes together, the limit for files sent in a request");
            }
            files.add(InputFile.of(path, bytes));
        }
        return files;
    }

    private static Display readDisplay(String requestId, JsonObjectReader json) throws MalformedMessageException {
        long seq = json.requiredLong("seq", 0, Long.MAX_VALUE);
        Map<String, String> data = json.requiredObject("data").stringValues();
        try {
            return new Display(requestId, seq, data);
        } catch (IllegalArgumentException e) {
            throw json.invalid("data", e.getMessage());
        }
    }

    private static Limits readLimits(JsonObjectReader json) throws MalformedMessageException {
        if (json == null) {
            return Limits.DEFAULT;
        }
        json.allowOnly(LIMITS_FIELDS);
        return new Limits(json.optionalLong("maxOutputBytes", Limits.DEFAULT_MAX_OUTPUT_BYTES, 0,
                Limits.MAX_OUTPUT_BYTES_CEILING));
    }

    private static Instant readInstant(JsonObjectReader json, String field) throws MalformedMessageException {
        String text = json.optionalString(field);
        if (text == null) {
            return null;
        }
        try {
            return OffsetDateTime.parse(text).toInstant();
        } catch (DateTimeParseException e) {
            throw json.invalid(field, "must be an ISO-8601 timestamp with offset such as 2026-11-21T10:15:30Z, got \""
                    + text + "\"");
        }
    }

    private static Result readResult(String requestId, JsonObjectReader json) throws MalformedMessageException {
        Result.ErrorInfo error = null;
        JsonObjectReader errorJson = json.optionalObject("error");
        if (errorJson != null) {
            error = new Result.ErrorInfo(errorJson.requiredString("type"), errorJson.requiredString("message"),
                    errorJson.optionalString("stacktrace"));
        }
        JsonObjectReader t = json.requiredObject("timings");
        Result.Timings timings = new Result.Timings(t.requiredLong("queuedMs", 0, Long.MAX_VALUE),
                t.requiredLong("acquireMs", 0, Long.MAX_VALUE), t.requiredLong("execMs", 0, Long.MAX_VALUE),
                t.requiredLong("totalMs", 0, Long.MAX_VALUE));
        List<CollectedFile> files = new ArrayList<>();
        List<JsonNode> nodes = json.optionalArray("files", Integer.MAX_VALUE);
        for (int i = 0; i < nodes.size(); i++) {
            JsonObjectReader file = json.element("files", i, nodes.get(i));
            try {
                files.add(new CollectedFile(file.requiredString("path"), file.requiredLong("size", 0, Long.MAX_VALUE),
                        file.optionalString("sha256"), file.requiredString("mediaType"), file.optionalString("base64"),
                        file.optionalString("ref"), file.optionalString("error")));
            } catch (IllegalArgumentException e) {
                throw json.invalid("files[" + i + "]", e.getMessage());
            }
        }
        return new Result(requestId, enumOf(Result.Status.class, json, "status"), json.optionalString("value"),
                error, json.requiredBoolean("truncated"), timings, json.requiredString("workerId"),
                (int) json.requiredLong("attempt", 1, Integer.MAX_VALUE), json.optionalString("traceId"), files);
    }

    private static void requireVersion(JsonObjectReader json) throws MalformedMessageException {
        long v = json.requiredLong("v", Long.MIN_VALUE, Long.MAX_VALUE);
        if (v != Protocol.VERSION) {
            throw new MalformedMessageException(Reason.UNSUPPORTED_VERSION,
                    "protocol version " + v + " is not supported; this build speaks version " + Protocol.VERSION);
        }
    }

    private static <E extends Enum<E>> E enumOf(Class<E> type, JsonObjectReader json, String field)
            throws MalformedMessageException {
        String text = json.requiredString(field);
        for (E constant : type.getEnumConstants()) {
            if (constant.name().toLowerCase(java.util.Locale.ROOT).equals(text)) {
                return constant;
            }
        }
        throw json.invalid(field, "must be one of " + java.util.Arrays.stream(type.getEnumConstants())
                .map(c -> c.name().toLowerCase(java.util.Locale.ROOT)).toList() + ", got \"" + text + "\"");
    }

    private JsonNode parse(byte[] bytes, String what) throws MalformedMessageException {
        if (bytes == null || bytes.length == 0) {
            throw new MalformedMessageException(Reason.NOT_JSON, "the " + what + " is empty");
        }
        try {
            StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes));
        } catch (CharacterCodingException e) {
            throw new MalformedMessageException(Reason.NOT_UTF8, "the " + what + " is not valid UTF-8");
        }
        try {
            return mapper.readTree(bytes);
        } catch (JsonProcessingException e) {
            throw new MalformedMessageException(Reason.NOT_JSON,
                    "the " + what + " is not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new MalformedMessageException(Reason.NOT_JSON, "the " + what + " could not be read: " + e.getMessage());
        }
    }

    private static String readableId(JsonNode tree) {
        JsonNode id = tree.get("id");
        return id != null && id.isTextual() && WireNames.isId(id.textValue()) ? id.textValue() : null;
    }

    private static String readableReplyTo(JsonNode tree) {
        JsonNode replyTo = tree.get("replyTo");
        if (replyTo == null || replyTo.isNull()) {
            return Topics.REPLIES;
        }
        return replyTo.isTextual() && WireNames.TOPIC.matcher(replyTo.textValue()).matches()
                && !Topics.isFarmOwned(replyTo.textValue()) ? replyTo.textValue() : null;
    }

    private static String idRule() {
        return "must be 1 to 128 of letters, digits, '.', '_', ':' or '-', starting with a letter or digit";
    }

    private byte[] write(Object wireRecord) {
        try {
            return mapper.writeValueAsBytes(wireRecord);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException("cannot encode " + wireRecord.getClass().getSimpleName(), e);
        }
    }
}
