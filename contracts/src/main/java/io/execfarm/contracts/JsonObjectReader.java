package io.execfarm.contracts;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeType;
import io.execfarm.contracts.MalformedMessageException.Reason;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/** Typed, validating reads of one JSON object's fields, failing with a sentence naming the field. */
final class JsonObjectReader {

    private final JsonNode node;
    private final String path;

    private JsonObjectReader(JsonNode node, String path) {
        this.node = node;
        this.path = path;
    }

    static JsonObjectReader of(JsonNode node, String what) throws MalformedMessageException {
        if (node == null || !node.isObject()) {
            throw new MalformedMessageException(Reason.NOT_AN_OBJECT,
                    what + " must be a JSON object, got " + describe(node));
        }
        return new JsonObjectReader(node, "");
    }

    void allowOnly(Set<String> fields) throws MalformedMessageException {
        for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!fields.contains(name)) {
                throw new MalformedMessageException(Reason.UNKNOWN_FIELD,
                        "unknown field '" + path + name + "'; allowed fields are " + fields);
            }
        }
    }

    String requiredString(String field) throws MalformedMessageException {
        String s = optionalString(field);
        if (s == null) {
            throw missing(field);
        }
        return s;
    }

    /** The string, or null when the field is absent or JSON null. */
    String optionalString(String field) throws MalformedMessageException {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isTextual()) {
            throw wrongType(field, "a string", value);
        }
        return value.textValue();
    }

    String requiredMatching(String field, Pattern pattern, String rule) throws MalformedMessageException {
        return checkMatches(field, requiredString(field), pattern, rule);
    }

    String optionalMatching(String field, Pattern pattern, String rule) throws MalformedMessageException {
        String s = optionalString(field);
        return s == null ? null : checkMatches(field, s, pattern, rule);
    }

    long requiredLong(String field, long min, long max) throws MalformedMessageException {
        if (isAbsent(field)) {
            throw missing(field);
        }
        return optionalLong(field, min, min, max);
    }

    long optionalLong(String field, long fallback, long min, long max) throws MalformedMessageException {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            return fallback;
        }
        if (!value.isIntegralNumber()) {
            throw wrongType(field, "an integer", value);
        }
        if (!value.canConvertToLong() || value.longValue() < min || value.longValue() > max) {
            throw new MalformedMessageException(Reason.INVALID_VALUE,
                    "field '" + path + field + "' must be between " + min + " and " + max + ", got " + value);
        }
        return value.longValue();
    }

    boolean requiredBoolean(String field) throws MalformedMessageException {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            throw missing(field);
        }
        if (!value.isBoolean()) {
            throw wrongType(field, "true or false", value);
        }
        return value.booleanValue();
    }

    /** A nested object's reader, or null when the field is absent or JSON null. */
    JsonObjectReader optionalObject(String field) throws MalformedMessageException {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isObject()) {
            throw wrongType(field, "an object", value);
        }
        return new JsonObjectReader(value, path + field + ".");
    }

    /** An array's elements, none when the field is absent or JSON null; more than {@code max} is an error. */
    List<JsonNode> optionalArray(String field, int max) throws MalformedMessageException {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            return List.of();
        }
        if (!value.isArray()) {
            throw wrongType(field, "an array", value);
        }
        if (value.size() > max) {
            throw new MalformedMessageException(Reason.TOO_LARGE,
                    "field '" + path + field + "' has " + value.size() + " elements, over the limit of " + max);
        }
        List<JsonNode> elements = new ArrayList<>();
        value.forEach(elements::add);
        return elements;
    }

    /** The reader of element {@code index} of array {@code field}, which must be an object. */
    JsonObjectReader element(String field, int index, JsonNode element) throws MalformedMessageException {
        if (element == null || !element.isObject()) {
            throw wrongType(field + "[" + index + "]", "an object", element);
        }
        return new JsonObjectReader(element, path + field + "[" + index + "].");
    }

    /** Every field of this object, each of which must be a string. */
    Map<String, String> stringValues() throws MalformedMessageException {
        Map<String, String> values = new LinkedHashMap<>();
        for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            values.put(name, requiredString(name));
        }
        return values;
    }

    JsonObjectReader requiredObject(String field) throws MalformedMessageException {
        JsonObjectReader nested = optionalObject(field);
        if (nested == null) {
            throw missing(field);
        }
        return nested;
    }

    MalformedMessageException invalid(String field, String rule) {
        return new MalformedMessageException(Reason.INVALID_VALUE, "field '" + path + field + "' " + rule);
    }

    private boolean isAbsent(String field) {
        JsonNode value = node.get(field);
        return value == null || value.isNull();
    }

    private String checkMatches(String field, String value, Pattern pattern, String rule)
            throws MalformedMessageException {
        if (value.isEmpty()) {
            throw new MalformedMessageException(Reason.INVALID_VALUE, "field '" + path + field + "' must not be empty");
        }
        if (!pattern.matcher(value).matches()) {
            throw invalid(field, rule + ", got " + quote(value));
        }
        return value;
    }

    private MalformedMessageException missing(String field) {
        return new MalformedMessageException(Reason.MISSING_FIELD, "required field '" + path + field + "' is missing");
    }

    private MalformedMessageException wrongType(String field, String expected, JsonNode actual) {
        return new MalformedMessageException(Reason.WRONG_TYPE,
                "field '" + path + field + "' must be " + expected + ", got " + describe(actual));
    }

    static String describe(JsonNode node) {
        if (node == null || node.getNodeType() == JsonNodeType.MISSING) {
            return "nothing";
        }
        return switch (node.getNodeType()) {
            case STRING -> "the string " + quote(node.textValue());
            case NUMBER -> "the number " + node;
            case BOOLEAN -> node.booleanValue() ? "true" : "false";
            case NULL -> "null";
            case ARRAY -> "an array";
            case OBJECT -> "an object";
            default -> node.getNodeType().name().toLowerCase();
        };
    }

    private static String quote(String s) {
        return s.length() <= 40 ? "\"" + s + "\"" : "\"" + s.substring(0, 40) + "…\"";
    }
}
