package io.execfarm.worker.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.execfarm.contracts.Output;
import io.execfarm.contracts.Result;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a driver writes on its frame channel, one JSON object per line (docs/driver-protocol.md),
 * and what the worker itself adds to a process's event stream.
 */
sealed interface DriverFrame {

    record Ready(String version) implements DriverFrame {
    }

    record Chunk(String id, Output.Stream stream, String text) implements DriverFrame {
    }

    /** A MIME bundle the code displayed; the worker checks its media types. */
    record Display(String id, Map<String, String> data) implements DriverFrame {
    }

    /** A file collected after the run: its content (base64), or why the driver did not read it. */
    record CollectedFile(String id, String path, String base64, String error) implements DriverFrame {
    }

    /**
     * {@code leftWaiting} is what the driver counts as left by the request to run later (a timer in
     * its runtime's event loop), or null: a word that can only retire a process, never keep one.
     */
    record Done(String id, Result.Status status, String value, Result.ErrorInfo error, boolean truncated,
            long evalMicros, String leftWaiting) implements DriverFrame {
    }

    /** The channel reached end of file: the process exited or closed its stdout. */
    record Closed() implements DriverFrame {
    }

    /** The channel carried something that is not a frame: the process can no longer be trusted. */
    record Garbage(String why) implements DriverFrame {
    }

    /** Added by the worker when a cancel for the running request arrives. */
    record CancelRequested(String id) implements DriverFrame {
    }

    static DriverFrame parse(ObjectMapper json, String line) {
        JsonNode node;
        try {
            node = json.readTree(line);
        } catch (Exception e) {
            return new Garbage("not JSON: " + excerpt(line));
        }
        if (node == null || !node.isObject() || !node.path("ev").isTextual()) {
            return new Garbage("not a frame: " + excerpt(line));
        }
        try {
            return switch (node.get("ev").textValue()) {
                case "ready" -> new Ready(node.path("version").asText(""));
                case "output" -> new Chunk(text(node, "id"), stream(text(node, "stream")), text(node, "text"));
                case "display" -> new Display(text(node, "id"), bundle(node.get("data")));
                case "file" -> new CollectedFile(text(node, "id"), text(node, "path"), nullableText(node, "base64"),
                        excerptOf(nullableText(node, "error")));
                case "done" -> new Done(text(node, "id"), status(text(node, "status")), nullableText(node, "value"),
                        error(node.get("error")), node.path("truncated").asBoolean(false),
                        node.path("evalMicros").asLong(0), excerptOf(nullableText(node, "leftWaiting")));
                default -> new Garbage("unknown frame type: " + excerpt(line));
            };
        } catch (IllegalArgumentException e) {
            return new Garbage(e.getMessage() + ": " + excerpt(line));
        }
    }

    private static String text(JsonNode node, String field) {
        JsonNode value = node.get(field);
        if (value == null || !value.isTextual()) {
            throw new IllegalArgumentException("frame field '" + field + "' is missing or not a string");
        }
        return value.textValue();
    }

    private static String nullableText(JsonNode node, String field) {
        JsonNode value = node.get(field);
        return value == null || value.isNull() ? null : text(node, field);
    }

    private static Map<String, String> bundle(JsonNode data) {
        if (data == null || !data.isObject()) {
            throw new IllegalArgumentException("frame field 'data' is missing or not an object");
        }
        Map<String, String> bundle = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> entry : data.properties()) {
            bundle.put(entry.getKey(), text(data, entry.getKey()));
        }
        return bundle;
    }

    private static Output.Stream stream(String name) {
        return switch (name) {
            case "stdout" -> Output.Stream.STDOUT;
            case "stderr" -> Output.Stream.STDERR;
            default -> throw new IllegalArgumentException("unknown stream " + name);
        };
    }

    private static Result.Status status(String name) {
        return switch (name) {
            case "ok" -> Result.Status.OK;
            case "error" -> Result.Status.ERROR;
            default -> throw new IllegalArgumentException("a driver may only report ok or error, not " + name);
        };
    }

    private static Result.ErrorInfo error(JsonNode node) {
        if (node == null || node.isNull()) {
            return null;
        }
        return new Result.ErrorInfo(text(node, "type"), text(node, "message"), nullableText(node, "stacktrace"));
    }

    private static String excerptOf(String text) {
        return text == null ? null : excerpt(text);
    }

    private static String excerpt(String line) {
        return line.length() <= 120 ? line : line.substring(0, 120) + "…";
    }
}
