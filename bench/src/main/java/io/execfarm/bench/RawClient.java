package io.execfarm.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.execfarm.accounts.KafkaLogin;
import io.execfarm.contracts.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * The floor the Java client is measured against: plain Kafka clients, as a producer in any language
 * would be, with nothing but the result correlated. It publishes requests to
 * {@code execfarm.requests.<runtime>} and reads results from a reply topic of its own; a poller thread
 * completes each request's future when its result arrives. No ordering, duplicates, deadlines or
 * backpressure: what those cost is what {@code bench/run client} measures.
 */
final class RawClient implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(2);

    private final KafkaProducer<String, String> producer;
    private final KafkaConsumer<String, String> consumer;
    private final String replies;
    private final Map<String, Pending> waiting = new ConcurrentHashMap<>();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final Thread poller;

    private record Pending(long sentNanos, long sentMillis, CompletableFuture<Reply> reply) {
    }

    /** A client of tenant {@code bench} logged in as {@code login} (the admin's, say), its topic and group under its prefix. */
    RawClient(KafkaLogin login) {
        replies = Topics.tenantTopics("bench") + "replies-" + UUID.randomUUID();
        producer = PlainClients.producer(login);
        consumer = PlainClients.consumer(login, Topics.tenantTopics("bench") + "raw", replies);
        poller = new Thread(this::poll, "raw-client-poller");
        poller.start();
    }

    /** Publishes {@code code} as a request without a session to the runtime's partitioned topic, keyed by its id. */
    CompletableFuture<Reply> submit(String runtime, String code) {
        String id = UUID.randomUUID().toString();
        ObjectNode request = JSON.createObjectNode().put("v", 1).put("id", id).put("runtime", runtime)
                .put("code", code).put("tenant", "bench").put("replyTo", replies);
        return send(Topics.requests(runtime), id, id, null, request.toString());
    }

    /**
     * One record through the broker to this client's own consumer, no worker involved: what a
     * single Kafka hop costs on this machine. A request makes two (the request, its result).
     */
    Reply hop() throws Exception {
        String id = "hop-" + UUID.randomUUID();
        return send(replies, id, id, null, "{\"type\":\"result\",\"status\":\"ok\"}").get(30, TimeUnit.SECONDS);
    }

    private CompletableFuture<Reply> send(String topic, String id, String key, Integer partition, String json) {
        CompletableFuture<Reply> reply = new CompletableFuture<>();
        waiting.put(id, new Pending(System.nanoTime(), System.currentTimeMillis(), reply));
        producer.send(new ProducerRecord<>(topic, partition, key, json), (metadata, failure) -> {
            if (failure != null) {
                Pending pending = waiting.remove(id);
                if (pending != null) {
                    pending.reply().completeExceptionally(failure);
                }
            }
        });
        return reply;
    }

    private void poll() {
        while (running.get()) {
            for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(50))) {
                long receivedNanos = System.nanoTime();
                long receivedMillis = System.currentTimeMillis();
                try {
                    JsonNode event = JSON.readTree(r.value().getBytes(StandardCharsets.UTF_8));
                    if ("result".equals(event.path("type").asText())) {
                        Pending pending = waiting.remove(r.key());
                        if (pending != null) {
                            pending.reply().complete(new Reply(event, pending.sentNanos(), pending.sentMillis(),
                                    pending.sentMillis(), receivedNanos, receivedMillis));
                        }
                    }
                } catch (Exception e) {
                    System.err.println("unreadable event: " + e.getMessage());
                }
            }
        }
    }

    /**
     * Within seconds: the tracing and share-group parts start farms of their own, so by the end the
     * broker this client knew may be gone, and a consumer leaving its group there waited out Kafka's
     * 30 s default.
     */
    @Override
    public void close() throws InterruptedException {
        running.set(false);
        poller.join();
        consumer.close(CloseOptions.timeout(CLOSE_TIMEOUT));
        producer.close(CLOSE_TIMEOUT);
    }
}
