package io.execfarm.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.HdrHistogram.Histogram;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/** A Python client on plain Kafka clients; a poller thread completes each request's future when its result arrives. */
final class BenchClient implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    record Outcome(Histogram latency, Histogram exec) {
    }

    private final KafkaProducer<String, String> producer;
    private final KafkaConsumer<String, String> consumer;
    private final String replies = "bench.replies." + UUID.randomUUID();
    private final Map<String, CompletableFuture<JsonNode>> waiting = new ConcurrentHashMap<>();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final Thread poller;

    BenchClient(String bootstrap) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(ConsumerConfig.GROUP_ID_CONFIG, "bench-" + UUID.randomUUID());
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 1);
        consumer = new KafkaConsumer<>(c, new StringDeserializer(), new StringDeserializer());
        consumer.subscribe(List.of(replies));
        poller = new Thread(this::poll, "bench-poller");
        poller.start();
    }

    /** Sends one request and waits for its result event. */
    JsonNode call(String key, String requestJson) throws Exception {
        String id = JSON.readTree(requestJson).get("id").asText();
        CompletableFuture<JsonNode> result = new CompletableFuture<>();
        waiting.put(id, result);
        producer.send(new ProducerRecord<>("execfarm.requests.python", key, requestJson));
        return result.get(120, TimeUnit.SECONDS);
    }

    /** The topic results come back on: every request must name it as replyTo. */
    String replies() {
        return replies;
    }

    Outcome run(int concurrency, int requests) throws Exception {
        Histogram latency = new Histogram(60_000_000L, 3);
        Histogram exec = new Histogram(60_000_000L, 3);
        AtomicInteger left = new AtomicInteger(requests);
        ExecutorService clients = Executors.newFixedThreadPool(concurrency);
        for (int c = 0; c < concurrency; c++) {
            clients.submit(() -> {
                while (left.getAndDecrement() > 0) {
                    String id = UUID.randomUUID().toString();
                    CompletableFuture<JsonNode> result = new CompletableFuture<>();
                    waiting.put(id, result);
                    long start = System.nanoTime();
                    producer.send(new ProducerRecord<>("execfarm.requests.python", id,
                            "{\"v\":1,\"id\":\"" + id + "\",\"runtime\":\"python\",\"code\":\"1 + 1\",\"replyTo\":\""
                                    + replies + "\"}"));
                    JsonNode event = result.get(60, TimeUnit.SECONDS);
                    long micros = (System.nanoTime() - start) / 1000;
                    if (!"ok".equals(event.path("status").asText())) {
                        throw new IllegalStateException("request failed: " + event);
                    }
                    synchronized (latency) {
                        latency.recordValue(micros);
                        exec.recordValue(event.at("/timings/execMs").asLong() * 1000);
                    }
                }
                return null;
            });
        }
        clients.shutdown();
        if (!clients.awaitTermination(30, TimeUnit.MINUTES)) {
            throw new IllegalStateException("benchmark did not finish");
        }
        return new Outcome(latency, exec);
    }

    private void poll() {
        while (running.get()) {
            for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(50))) {
                try {
                    JsonNode event = JSON.readTree(r.value().getBytes(StandardCharsets.UTF_8));
                    if ("result".equals(event.path("type").asText())) {
                        CompletableFuture<JsonNode> f = waiting.remove(r.key());
                        if (f != null) {
                            f.complete(event);
                        }
                    }
                } catch (Exception e) {
                    System.err.println("unreadable event: " + e.getMessage());
                }
            }
        }
    }

    @Override
    public void close() throws InterruptedException {
        running.set(false);
        poller.join();
        consumer.close();
        producer.close();
    }
}
