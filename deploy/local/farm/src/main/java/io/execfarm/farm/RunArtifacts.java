package io.execfarm.farm;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * Saves what an execution gives back besides text: each displayed picture (or HTML) as
 * {@code display-N.EXT} in the output directory, and each collected file under its own relative
 * path there, fetched from the dispatcher when the result names it by reference. Says what it
 * saved, and what was not collected and why, on the error stream.
 */
final class RunArtifacts {

    /** The richest representation first, with the extension its file gets. */
    private static final List<Map.Entry<String, String>> SAVED_TYPES = List.of(Map.entry("image/png", "png"),
            Map.entry("image/jpeg", "jpg"), Map.entry("image/svg+xml", "svg"), Map.entry("text/html", "html"));

    private final Executions client;
    private final Path outDir;
    private final PrintStream err;
    private int displays;

    RunArtifacts(Executions client, Path outDir, PrintStream err) {
        this.client = client;
        this.outDir = outDir.toAbsolutePath().normalize();
        this.err = err;
    }

    /** A display event's bundle: saved when it has more than text, its text shown either way. */
    void display(JsonNode data, PrintStream out) throws IOException {
        displays++;
        for (Map.Entry<String, String> type : SAVED_TYPES) {
            if (data.hasNonNull(type.getKey())) {
                String text = data.get(type.getKey()).asText();
                byte[] content = type.getKey().startsWith("image/") && !type.getKey().equals("image/svg+xml")
                        ? Base64.getDecoder().decode(text) : text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
                Path file = save("display-" + displays + "." + type.getValue(), content);
                err.println("farm: display " + displays + " (" + type.getKey() + ") saved as " + file);
                break;
            }
        }
        out.println(data.path("text/plain").asText());
        out.flush();
    }

    /** The result's collected files, saved; a file the farm did not collect is named with its reason. */
    void collected(JsonNode result) throws IOException, InterruptedException {
        for (JsonNode file : result.path("files")) {
            String path = file.path("path").asText();
            if (file.hasNonNull("error")) {
                err.println("farm: not collected: " + path + ": " + file.get("error").asText());
                continue;
            }
            byte[] content = file.hasNonNull("base64") ? Base64.getDecoder().decode(file.get("base64").asText())
                    : client.download(file.path("ref").asText());
            err.println("farm: saved " + save(path, content) + " (" + content.length + " bytes"
                    + (file.hasNonNull("ref") ? ", fetched by reference" : "") + ")");
        }
    }

    /** Writes under the output directory; a path that would leave it is refused, whatever the farm said. */
    private Path save(String relative, byte[] content) throws IOException {
        Path target = outDir.resolve(relative).normalize();
        if (!target.startsWith(outDir) || target.equals(outDir)) {
            throw new IOException("refusing to save " + relative + " outside " + outDir);
        }
        Files.createDirectories(target.getParent());
        Files.write(target, content);
        return target;
    }
}
