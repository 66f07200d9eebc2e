package io.execfarm.farm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.execfarm.accounts.KafkaLogin;
import io.execfarm.client.ClientSettings;
import io.execfarm.client.Execution;
import io.execfarm.client.FarmClient;
import io.execfarm.client.Job;
import io.execfarm.contracts.ExecutionEvent;
import io.execfarm.contracts.InputFile;
import io.execfarm.contracts.Topics;
import io.execfarm.contracts.WireCodec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * {@code ./farm run --kafka}: the Java client straight on Kafka, no dispatcher in the way. As a
 * Kafka tenant where the environment holds one's settings ({@code eval "$(./farm tenant add acme)"}),
 * through its ingress topic; else as the local farm's admin, straight to the runtime topics as the
 * local API key's tenant, so that its sessions are the ones {@code --session new} makes over HTTP.
 * Files ride in the request only (up to 2 MiB together): uploads and downloads by reference are the
 * dispatcher's.
 */
final class KafkaExecutions implements Executions, AutoCloseable {

    /** The tenant of the API key a local farm generates ({@code LocalFarm}): requests run as it either way. */
    static final String LOCAL_TENANT = "local";

    private static final ObjectMapper JSON = new ObjectMapper();

    private final FarmClient client;
    private final WireCodec codec = new WireCodec();
    private final Map<String, Job> submitted = new ConcurrentHashMap<>();

    KafkaExecutions(ClientSettings settings) {
        client = FarmClient.connect(settings);
    }

    /** A tenant's settings from {@code env} when it names one, else the local farm's admin in {@code farmEnv}. */
    static ClientSettings settings(Map<String, String> env, Supplier<Map<String, String>> farmEnv) {
        if (env.containsKey("EXECFARM_TENANT")) {
            return ClientSettings.fromEnvironment(env);
        }
        return ClientSettings.direct(LOCAL_TENANT, KafkaLogin.admin(farmEnv.get()).clientSettings())
                .withReplyTopic(Topics.tenantReplies(LOCAL_TENANT));
    }

    @Override
    public String submit(String runtime, String code, String session, Long timeoutMs, Attachments attachments)
            throws IOException {
        List<InputFile> files = new ArrayList<>();
        for (Attachments.Sent sent : attachments.files()) {
            if (sent.local() == null) {
                throw new IOException(sent.path() + " is stored on the farm: over Kafka, files ride in the request");
            }
            files.add(InputFile.of(sent.path(), Files.readAllBytes(sent.local())));
        }
        if (InputFile.totalBytes(files) > InputFile.MAX_TOTAL_BYTES) {
            throw new IOException("over Kafka, files ride in the request: up to " + InputFile.MAX_TOTAL_BYTES
                    + " bytes together (without --kafka, larger ones are uploaded first)");
        }
        Job job = Job.of(runtime, code).inSession(session).withFiles(files).collecting(attachments.collect());
        if (timeoutMs != null) {
            job = job.withTimeout(Duration.ofMillis(timeoutMs));
        }
        submitted.put(job.id(), job);
        return job.id();
    }

    @Override
    public JsonNode follow(String execution, DispatcherClient.EventHandler onEvent)
            throws IOException, InterruptedException {
        Job job = submitted.remove(execution);
        try {
            Execution done = client.run(job, event -> {
                try {
                    onEvent.accept(new DispatcherClient.Event(event.type(), json(event)));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            return json(done.result());
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    @Override
    public void cancel(String execution) {
        client.cancel(execution);
    }

    @Override
    public byte[] download(String ref) throws IOException {
        throw new IOException("the result keeps this file on the farm as " + ref + ": fetch it with GET /v1/files/"
                + ref + " from the dispatcher");
    }

    private JsonNode json(ExecutionEvent event) {
        try {
            return JSON.readTree(codec.encode(event));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        client.close();
    }
}
