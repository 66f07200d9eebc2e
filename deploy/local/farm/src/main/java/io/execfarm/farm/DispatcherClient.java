package io.execfarm.farm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Base64;
import java.util.Iterator;
import java.util.stream.Stream;

/** The dispatcher's HTTP API v1, as the farm's commands use it. */
public final class DispatcherClient implements Executions {

    /** The dispatcher refused a call: its problem document's detail, or the body it sent. */
    static final class Refused extends IOException {
        final int status;

        Refused(int status, String detail) {
            super(detail);
            this.status = status;
        }
    }

    /** One Server-Sent Event of an execution's stream. */
    record Event(String type, JsonNode data) {
    }

    /** What a follower does with each event; saving what it carries may fail. */
    @FunctionalInterface
    interface EventHandler {
        void accept(Event event) throws IOException;
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Files ride in the request while they hold this much together (the farm's limit); the rest are uploaded. */
    private static final long MAX_INLINE_BYTES = 2 * 1024 * 1024;

    private final String base;
    private final String apiKey;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    public DispatcherClient(String base, String apiKey) {
        this.base = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
        this.apiKey = apiKey;
    }

    /** Queues code to run, with what it brings and collects; returns the execution's URL. */
    @Override
    public String submit(String runtime, String code, String session, Long timeoutMs, Attachments attachments)
            throws IOException, InterruptedException {
        ObjectNode body = request(runtime, code, session, timeoutMs);
        if (!attachments.files().isEmpty()) {
            ArrayNode files = body.putArray("files");
            long inline = 0;
            for (Attachments.Sent sent : attachments.files()) {
                ObjectNode file = files.addObject().put("path", sent.path());
                if (sent.ref() != null) {
                    file.put("ref", sent.ref());
                    continue;
                }
                byte[] content = Files.readAllBytes(sent.local());
                if (inline + content.length <= MAX_INLINE_BYTES) {
                    inline += content.length;
                    file.put("base64", Base64.getEncoder().encodeToString(content));
                } else {
                    file.put("ref", upload(content, sent.local().getFileName().toString()));
                }
            }
        }
        attachments.collect().forEach(body.withArray("collect")::add);
        HttpResponse<String> response = http.send(post("/v1/executions", body), HttpResponse.BodyHandlers.ofString());
        expect(response, 202);
        return response.headers().firstValue("Location")
                .orElseThrow(() -> new IOException("the dispatcher answered 202 without a Location"));
    }

    /** Submits and waits for the finished execution (status, result, stdout, stderr). */
    public JsonNode submitAndWait(String runtime, String code) throws IOException, InterruptedException {
        return submitAndWait(runtime, code, null);
    }

    /** Like {@link #submitAndWait(String, String)}, with the request's own timeout (null: the dispatcher's default). */
    public JsonNode submitAndWait(String runtime, String code, Long timeoutMs) throws IOException, InterruptedException {
        HttpResponse<String> response = http.send(post("/v1/executions?wait=true", request(runtime, code, null, timeoutMs)),
                HttpResponse.BodyHandlers.ofString());
        expect(response, 200);
        return JSON.readTree(response.body());
    }

    /** Submits a request body of the caller's making and waits for the finished execution. */
    public JsonNode submitAndWait(ObjectNode body) throws IOException, InterruptedException {
        HttpResponse<String> response = http.send(post("/v1/executions?wait=true", body),
                HttpResponse.BodyHandlers.ofString());
        expect(response, 200);
        return JSON.readTree(response.body());
    }

    /**
     * Follows an execution's events as they arrive, handing each to {@code onEvent}; returns the
     * {@code result} event, the last one.
     */
    @Override
    public JsonNode follow(String execution, EventHandler onEvent) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create(execution + "/events"))
                .header("X-API-Key", apiKey).header("Accept", "text/event-stream").GET().build();
        HttpResponse<Stream<String>> response = http.send(request, HttpResponse.BodyHandlers.ofLines());
        if (response.statusCode() != 200) {
            String text = String.join("\n", response.body().toList());
            throw new Refused(response.statusCode(), detail(text));
        }
        try (Stream<String> lines = response.body()) {
            String type = null;
            StringBuilder data = new StringBuilder();
            for (Iterator<String> it = lines.iterator(); it.hasNext(); ) {
                String line = it.next();
                if (line.startsWith("event:")) {
                    type = line.substring("event:".length()).strip();
                } else if (line.startsWith("data:")) {
                    data.append(line.substring("data:".length()).stripLeading());
                } else if (line.isEmpty() && type != null) {
                    Event event = new Event(type, JSON.readTree(data.toString()));
                    onEvent.accept(event);
                    if ("result".equals(type)) {
                        return event.data();
                    }
                    type = null;
                    data.setLength(0);
                }
            }
        }
        throw new IOException("the event stream of " + execution + " ended without a result");
    }

    /** Stores a file on the farm (POST /v1/files); returns its id, for a request's files[].ref. */
    String upload(byte[] content, String name) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create(base + "/v1/files?name="
                        + URLEncoder.encode(name, StandardCharsets.UTF_8).replace("+", "%20")))
                .header("X-API-Key", apiKey).header("Content-Type", "application/octet-stream")
                .POST(HttpRequest.BodyPublishers.ofByteArray(content)).build();
        HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
        expect(response, 201);
        return JSON.readTree(response.body()).get("id").asText();
    }

    /** A stored file's bytes (GET /v1/files/{id}). */
    @Override
    public byte[] download(String id) throws IOException, InterruptedException {
        HttpResponse<byte[]> response = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/files/" + id))
                .header("X-API-Key", apiKey).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
        if (response.statusCode() != 200) {
            throw new Refused(response.statusCode(), detail(new String(response.body(), StandardCharsets.UTF_8)));
        }
        return response.body();
    }

    @Override
    public void cancel(String execution) throws IOException, InterruptedException {
        http.send(HttpRequest.newBuilder(URI.create(execution)).header("X-API-Key", apiKey).DELETE().build(),
                HttpResponse.BodyHandlers.discarding());
    }

    /** Starts a session; returns its id. */
    public String createSession(String runtime) throws IOException, InterruptedException {
        HttpResponse<String> response = http.send(post("/v1/sessions", JSON.createObjectNode().put("runtime", runtime)),
                HttpResponse.BodyHandlers.ofString());
        expect(response, 201);
        return JSON.readTree(response.body()).get("id").asText();
    }

    private static ObjectNode request(String runtime, String code, String session, Long timeoutMs) {
        ObjectNode body = JSON.createObjectNode().put("runtime", runtime).put("code", code);
        if (session != null) {
            body.put("session", session);
        }
        if (timeoutMs != null) {
            body.put("timeoutMs", timeoutMs);
        }
        return body;
    }

    private HttpRequest post(String path, ObjectNode body) throws IOException {
        return HttpRequest.newBuilder(URI.create(base + path))
                .header("X-API-Key", apiKey).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))).build();
    }

    private static void expect(HttpResponse<String> response, int status) throws Refused {
        if (response.statusCode() != status) {
            throw new Refused(response.statusCode(), detail(response.body()));
        }
    }

    private static String detail(String body) {
        try {
            JsonNode problem = JSON.readTree(body);
            if (problem.hasNonNull("detail")) {
                return problem.get("detail").asText();
            }
        } catch (IOException e) {
            // Not a problem document: the body says what it says.
        }
        return body.isBlank() ? "(no detail)" : body.strip();
    }
}
