package io.execfarm.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.execfarm.accounts.KafkaLogin;
import io.execfarm.client.ClientSettings;
import io.execfarm.client.Execution;
import io.execfarm.client.FarmClient;
import io.execfarm.client.Job;
import io.execfarm.client.Placement;
import io.execfarm.contracts.Topics;
import io.execfarm.contracts.WireCodec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;

/**
 * The benchmarks' Kafka client: the project's Java client ({@code client/}) sending straight to the
 * runtime topics, each request's result as a {@link Reply} with the client's clocks. Requests
 * without a session go to the partitioned topic unless a benchmark names another.
 */
final class BenchClient implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final FarmClient client;
    private final KafkaLogin login;
    private final WireCodec codec = new WireCodec();
    /** The wall clock at one instant of the monotonic one: turns the client's nanoTimes into wall-clock millis. */
    private final long baseMillis = System.currentTimeMillis();
    private final long baseNanos = System.nanoTime();

    /** A client of tenant {@code bench}, logged in as {@code login} (the admin's, say). */
    BenchClient(KafkaLogin login) {
        this(login, ClientSettings.direct("bench", login.clientSettings()).withSharedSessionless(false));
    }

    BenchClient(KafkaLogin login, ClientSettings settings) {
        this.login = login;
        this.client = FarmClient.connect(settings);
    }

    /** Runs one job and returns its result event. */
    JsonNode call(Job job) throws Exception {
        return reply(client.execute(job).get(120, TimeUnit.SECONDS)).result();
    }

    /** Partitions of a runtime's request topic, for producers that spread requests evenly themselves. */
    int partitions(String runtime) {
        return partitionsOf(Topics.requests(runtime));
    }

    /** Partitions of any topic. */
    int partitionsOf(String topic) {
        try (Admin admin = Admin.create(login.clientSettings())) {
            return admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS).get(topic)
                    .partitions().size();
        } catch (Exception e) {
            throw new IllegalStateException("could not describe " + topic, e);
        }
    }

    /** {@code code} without a session on the runtime's partitioned topic, or on {@code partition} of it when given. */
    CompletableFuture<Reply> submit(String runtime, String code, Integer partition) {
        return submitTo(Topics.requests(runtime), runtime, code, partition);
    }

    /** As {@link #submit}, to any request topic of the runtime (its shared one, say). */
    CompletableFuture<Reply> submitTo(String topic, String runtime, String code, Integer partition) {
        return client.execute(Job.of(runtime, code), new Placement(topic, partition)).thenApply(this::reply);
    }

    private Reply reply(Execution execution) {
        try {
            JsonNode result = JSON.readTree(codec.encode(execution.result()));
            long sentMillis = millis(execution.sentNanos());
            return new Reply(result, execution.sentNanos(), sentMillis, sentMillis, execution.answeredNanos(),
                    millis(execution.answeredNanos()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private long millis(long nanos) {
        return baseMillis + (nanos - baseNanos) / 1_000_000;
    }

    @Override
    public void close() {
        client.close();
    }
}
