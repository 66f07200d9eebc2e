package io.execfarm.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.execfarm.localinfra.LocalInfra;
import io.execfarm.localinfra.AppProcess;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
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

/**
 * End-to-end latency through Kafka: a plain producer publishes a trivial request, a plain consumer
 * reads its result; one real broker, one real Redis, one packaged worker, all on this machine.
 *
 * <p>Usage: {@code bench/run kafka [requests-per-level]}.
 */
public final class KafkaLatencyBenchmark {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int POOL = 10;

    public static void main(String[] args) throws Exception {
        int requests = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
        Path report = Path.of("docs/benchmarks.md");
        try (LocalInfra infra = LocalInfra.startOrReuse();
                AppProcess worker = AppProcess.worker("bench-worker", infra.kafkaBootstrap(), infra.redisUrl(), List.of(
                        "execfarm.worker.runtime.python.pool.size=" + POOL,
                        "execfarm.worker.runtime.python.pool.min-idle=" + POOL,
                        "quarkus.log.level=WARN"));
                Client client = new Client(infra.kafkaBootstrap())) {
            client.run(1, 200);
            StringBuilder out = new StringBuilder("## End to end through Kafka\n\n");
            out.append("Measured ").append(Instant.now()).append(" on ").append(Machine.describe())
                    .append("; one broker, one Redis, one worker (Python pool of ").append(POOL)
                    .append("), and the client, all on this machine.\n\n");
            out.append("Command: `bench/run kafka ").append(requests).append("`. Latency is from the client's ")
                    .append("send to the client reading the `result` event; the snippet is `1 + 1`.\n\n");
            out.append("| concurrency | requests | p50 ms | p90 ms | p99 ms | max ms | worker-side exec p50 (whole ms, from the result) |\n");
            out.append("|---:|---:|---:|---:|---:|---:|---:|\n");
            for (int concurrency : new int[] {1, 10}) {
                Client.Outcome outcome = client.run(concurrency, requests);
                Histogram h = outcome.latency();
                out.append(String.format(Locale.ROOT, "| %d | %d | %.2f | %.2f | %.2f | %.2f | %.2f |%n", concurrency,
                        h.getTotalCount(), ms(h, 50), ms(h, 90), ms(h, 99), h.getMaxValue() / 1000.0,
                        ms(outcome.exec(), 50)));
            }
            Report.replaceSection(report, "kafka", out.toString());
            System.out.println(out);
            System.out.println("written to " + report);
        }
        System.exit(0);
    }

    private static double ms(Histogram h, double percentile) {
        return h.getValueAtPercentile(percentile) / 1000.0;
    }

    /** Plain Kafka clients; a poller thread completes each request's future when its result arrives. */
    private static final class Client implements AutoCloseable {

        record Outcome(Histogram latency, Histogram exec) {
        }

        private final KafkaProducer<String, String> producer;
        private final KafkaConsumer<String, String> consumer;
        private final String replies = "bench.replies." + UUID.randomUUID();
        private final Map<String, CompletableFuture<JsonNode>> waiting = new ConcurrentHashMap<>();
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final Thread poller;

        Client(String bootstrap) {
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
}
