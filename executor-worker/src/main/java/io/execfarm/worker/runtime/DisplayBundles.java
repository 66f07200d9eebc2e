package io.execfarm.worker.runtime;

import io.execfarm.contracts.Display;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A driver's display bundle as the worker passes it on: media types of {@link Display#MEDIA_TYPES}
 * only, pictures that are base64, and always a {@code text/plain} (a reader that shows only text
 * has something to show). User code can write display frames itself, so nothing else is assumed.
 */
final class DisplayBundles {

    private DisplayBundles() {
    }

    static Map<String, String> admissible(Map<String, String> data) {
        Map<String, String> bundle = new LinkedHashMap<>();
        data.forEach((type, content) -> {
            if (Display.MEDIA_TYPES.contains(type) && (!Display.BINARY.contains(type) || isBase64(content))) {
                bundle.put(type, content);
            }
        });
        bundle.putIfAbsent(Display.TEXT, "<" + String.join(", ", bundle.keySet()) + ">");
        return bundle;
    }

    /** What a bundle counts against the request's output budget: its content's UTF-8 bytes. */
    static long bytes(Map<String, String> bundle) {
        return bundle.values().stream().mapToLong(content -> content.getBytes(StandardCharsets.UTF_8).length).sum();
    }

    private static boolean isBase64(String content) {
        try {
            Base64.getDecoder().decode(content);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }
}
