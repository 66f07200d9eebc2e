package io.execfarm.farm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.execfarm.accounts.KafkaLogin;
import io.execfarm.contracts.Topics;
import io.execfarm.farm.ExportedSpans.ExportedSpan;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import static io.execfarm.farm.ExportedSpans.childrenOf;
import static io.execfarm.farm.ExportedSpans.named;
import static io.execfarm.farm.ExportedSpans.render;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What an operator sees of a real farm (a dispatcher and a worker as processes, the local broker
 * and Redis). One trace per execution, asserted on the spans the farm exports by OTLP to a receiver
 * that keeps them in memory: through HTTP, through a raw Kafka record carrying its own
 * {@code traceparent}, and with the delivery to an event stream and a cancel joining the
 * execution's trace. And the Grafana dashboard and the alert rules in deploy/monitoring name only
 * metrics the applications expose.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ObservabilityIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration EXPORTED = Duration.ofSeconds(30);
    /** Two of the exporters' batch intervals (OtlpReceiver's QUARKUS_OTEL_BSP_SCHEDULE_DELAY, 200 ms). */
    private static final Duration QUIET = Duration.ofMillis(400);

    private final Path root = Path.of(System.getProperty("execfarm.repo.root", "../../..")).toAbsolutePath().normalize();
    private final ExportedSpans exported = new ExportedSpans();
    private OtlpReceiver receiver;
    private LocalFarm farm;
    private DispatcherClient client;

    @BeforeAll
    void up() throws Exception {
        receiver = OtlpReceiver.start(exported);
        farm = new LocalFarm(root, Files.createTempDirectory("execfarm-observability-it-"), System.err);
        farm.up(1, Map.of("EXECFARM_JULIA", "false"), receiver.exportSettings(), LocalFarm.Warm.POOLS);
        client = farm.client();
    }

    @AfterAll
    void down() throws Exception {
        if (farm != null) {
            farm.down();
        }
        if (receiver != null) {
            receiver.close();
        }
    }

    @Test
    void anHttpSubmitYieldsOneTraceFromTheCallThroughTheWorkerToTheDelivery() throws Exception {
        JsonNode finished = client.submitAndWait("python", "print('traced')\n6 * 7");
        JsonNode result = finished.get("result");
        assertEquals("42", result.get("value").asText(), finished.toString());
        String traceId = result.get("traceId").asText();
        List<ExportedSpan> trace = awaitTrace(traceId, spans -> named(spans, "execfarm.deliver").isPresent()
                && named(spans, "execfarm.publish.result").isPresent());

        ExportedSpan call = single(trace, span -> span.kind().equals("SERVER"), "the HTTP call");
        assertNull(call.parentId(), "the HTTP call is the trace's root" + render(trace));
        assertEquals("execfarm-dispatcher", call.service());
        ExportedSpan publish = onlyChild(trace, call, span -> span.kind().equals("PRODUCER"), "the request's publish");
        assertEquals("execfarm.requests.python.shared", publish.attributes().get("messaging.destination.name"),
                "a request without a session goes to the share group" + render(trace));
        // The share consumer is the worker's own: its execution span is the consumer span.
        ExportedSpan execution = onlyChild(trace, publish, span -> span.name().equals("execfarm.execution"),
                "the worker's execution");
        assertEquals("execfarm-worker", execution.service());
        assertEquals("CONSUMER", execution.kind());
        Map<String, String> attributes = execution.attributes();
        assertEquals("python", attributes.get("execfarm.runtime"), render(trace));
        assertEquals("local", attributes.get("execfarm.tenant"));
        assertEquals("worker-1", attributes.get("execfarm.worker"));
        assertEquals("1", attributes.get("execfarm.attempt"));
        assertEquals("ok", attributes.get("execfarm.status"));
        assertEquals(Long.toString("traced\n".length()), attributes.get("execfarm.output.bytes"));
        assertEquals(finished.get("id").asText(), attributes.get("execfarm.request.id"));
        assertTrue(attributes.containsKey("messaging.destination.partition.id"), render(trace));
        for (String step : List.of("execfarm.queued", "execfarm.claim", "execfarm.acquire", "execfarm.run",
                "execfarm.publish.result")) {
            onlyChild(trace, execution, span -> span.name().equals(step), step);
        }
        ExportedSpan resultPublish = onlyChild(trace, named(trace, "execfarm.publish.result").orElseThrow(),
                span -> span.kind().equals("PRODUCER"), "the result's publish");
        ExportedSpan resultReceived = onlyChild(trace, resultPublish, span -> span.kind().equals("CONSUMER"),
                "the dispatcher's receive of the result");
        assertEquals("execfarm-dispatcher", resultReceived.service());
        ExportedSpan delivery = onlyChild(trace, call, span -> span.name().equals("execfarm.deliver"), "the delivery");
        assertEquals("wait", delivery.attributes().get("execfarm.delivery"));
        assertEquals("ok", delivery.attributes().get("execfarm.status"));
    }

    @Test
    void aRawKafkaRecordWithATraceparentContinuesItsSendersTrace() throws Exception {
        String traceId = UUID.randomUUID().toString().replace("-", "");
        String parentSpan = "00f067aa0ba902b7";
        String id = "raw-" + UUID.randomUUID();
        String replies = Topics.tenantTopics("raw-client") + "replies-" + UUID.randomUUID();
        String request = JSON.createObjectNode().put("v", 1).put("id", id).put("runtime", "python").put("code", "1 + 1")
                .put("tenant", "raw-client").put("replyTo", replies).toString();
        try (KafkaConsumer<String, String> consumer = consumer(farm.kafkaAdmin());
                KafkaProducer<String, String> producer = producer(farm.kafkaAdmin())) {
            consumer.subscribe(List.of(replies));
            ProducerRecord<String, String> record = new ProducerRecord<>("execfarm.requests.python", id, request);
            record.headers().add("traceparent", ("00-" + traceId + "-" + parentSpan + "-01").getBytes(StandardCharsets.US_ASCII));
            producer.send(record).get();
            ConsumerRecord<String, String> resultRecord = awaitResult(consumer, id);
            JsonNode result = JSON.readTree(resultRecord.value());
            assertEquals("2", result.get("value").asText(), result.toString());
            assertEquals(traceId, result.get("traceId").asText(), "the result names the sender's trace");
            Header header = resultRecord.headers().lastHeader("traceparent");
            assertTrue(header != null && new String(header.value(), StandardCharsets.US_ASCII).contains(traceId),
                    "the result record carries the trace on");
        }
        List<ExportedSpan> trace = awaitTrace(traceId, spans -> named(spans, "execfarm.publish.result").isPresent());
        ExportedSpan received = single(trace, span -> parentSpan.equals(span.parentId()), "the worker's receive");
        assertEquals("CONSUMER", received.kind(), render(trace));
        ExportedSpan execution = onlyChild(trace, received, span -> span.name().equals("execfarm.execution"),
                "the worker's execution");
        assertEquals("raw-client", execution.attributes().get("execfarm.tenant"));
        assertEquals("ok", execution.attributes().get("execfarm.status"));
    }

    @Test
    void anEventStreamsDeliveryAndACancelJoinTheExecutionsTrace() throws Exception {
        String execution = client.submit("python", "import time\nprint('waiting', flush=True)\ntime.sleep(60)", null, null,
                Attachments.NONE);
        CompletableFuture<JsonNode> streamed = CompletableFuture.supplyAsync(() -> {
            try {
                return client.follow(execution, event -> { });
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                .until(() -> "running".equals(JSON.readTree(get(execution)).get("status").asText()));
        client.cancel(execution);
        JsonNode result = streamed.get(60, TimeUnit.SECONDS);
        assertEquals("cancelled", result.get("status").asText(), result.toString());
        String traceId = result.get("traceId").asText();
        List<ExportedSpan> trace = awaitTrace(traceId, spans -> named(spans, "execfarm.deliver").isPresent()
                && named(spans, "execfarm.cancel").isPresent() && named(spans, "execfarm.execution").isPresent());
        ExportedSpan call = single(trace, span -> span.kind().equals("SERVER") && span.parentId() == null, "the submit");
        ExportedSpan delivery = named(trace, "execfarm.deliver").orElseThrow();
        assertEquals(call.spanId(), delivery.parentId(), "the stream's delivery hangs under the submit" + render(trace));
        assertEquals("sse", delivery.attributes().get("execfarm.delivery"));
        assertEquals("cancelled", delivery.attributes().get("execfarm.status"));
        assertEquals(1, delivery.linkedTraces().size(), "the delivery links the stream's own HTTP call" + render(trace));
        ExportedSpan cancel = named(trace, "execfarm.cancel").orElseThrow();
        assertEquals(call.spanId(), cancel.parentId(), render(trace));
        assertEquals(1, cancel.linkedTraces().size(), "the cancel links the DELETE call" + render(trace));
        ExportedSpan worked = named(trace, "execfarm.execution").orElseThrow();
        assertEquals("cancelled", worked.attributes().get("execfarm.status"));
        assertTrue(worked.events().contains("execfarm.cancelled"), render(trace));
    }

    @Test
    void theDashboardAndTheAlertRulesNameOnlyMetricsTheFarmExposes() throws Exception {
        client.submitAndWait("python", "1 + 1");
        Set<String> exposed = new TreeSet<>();
        for (String app : List.of("dispatcher", "worker-1")) {
            String metrics = farm.metrics(app);
            assertTrue(metrics.contains("# TYPE"), app + " serves its metrics");
            metrics.lines().filter(line -> !line.startsWith("#") && !line.isBlank())
                    .map(line -> line.split("[{ ]", 2)[0]).forEach(exposed::add);
        }
        JsonNode dashboard = JSON.readTree(root.resolve("deploy/monitoring/grafana/execfarm-dashboard.json").toFile());
        Set<String> onDashboard = new TreeSet<>();
        for (JsonNode target : dashboard.findValues("targets")) {
            target.forEach(query -> onDashboard.addAll(PromQl.metricNames(query.get("expr").asText())));
        }
        JsonNode rules = new ObjectMapper(new YAMLFactory())
                .readTree(root.resolve("deploy/monitoring/prometheus/execfarm-alerts.yml").toFile());
        Set<String> alerts = new TreeSet<>();
        Set<String> inRules = new TreeSet<>();
        for (JsonNode rule : rules.at("/groups/0/rules")) {
            alerts.add(rule.get("alert").asText());
            inRules.addAll(PromQl.metricNames(rule.get("expr").asText()));
        }

        assertTrue(onDashboard.containsAll(List.of("execfarm_executions_total", "execfarm_execution_latency_seconds_bucket",
                "execfarm_queue_wait_seconds_bucket", "execfarm_pool_processes", "kafka_consumer_fetch_manager_records_lag_max",
                "execfarm_process_restarts_total", "execfarm_sandbox_kills_total", "execfarm_dead_letters_total")),
                "the dashboard shows throughput, latency, queue, warm processes, lag, restarts, kills, dead letters: "
                        + onDashboard);
        assertTrue(alerts.containsAll(List.of("ExecfarmConsumerLagGrowing", "ExecfarmNoWarmProcesses",
                "ExecfarmDeadLetters", "ExecfarmRuntimeCrashLoop")), "alert rules: " + alerts);
        assertEquals(Set.of(), missing(onDashboard, exposed), "dashboard metrics no application exposes");
        assertEquals(Set.of(), missing(inRules, exposed), "alert rule metrics no application exposes");
    }

    private static Set<String> missing(Set<String> named, Set<String> exposed) {
        Set<String> missing = new TreeSet<>(named);
        missing.removeAll(exposed);
        return missing;
    }

    private String get(String url) throws Exception {
        var http = java.net.http.HttpClient.newHttpClient();
        var request = java.net.http.HttpRequest.newBuilder(java.net.URI.create(url))
                .header("X-API-Key", farm.env().get("EXECFARM_API_KEY")).GET().build();
        return http.send(request, java.net.http.HttpResponse.BodyHandlers.ofString()).body();
    }

    private List<ExportedSpan> awaitTrace(String traceId, Predicate<List<ExportedSpan>> complete) throws InterruptedException {
        long deadline = System.nanoTime() + EXPORTED.toNanos();
        List<ExportedSpan> trace = exported.inTrace(traceId);
        while (!complete.test(trace)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("trace " + traceId + " is incomplete after " + EXPORTED.toSeconds() + " s:"
                        + render(trace));
            }
            Thread.sleep(100);
            trace = exported.inTrace(traceId);
        }
        // Spans of the same trace exported a moment later (the batches of two processes) still count:
        // the trace is read once it stopped growing for two of the exporters' batch intervals.
        List<ExportedSpan> settled = new ArrayList<>(trace);
        await().atMost(EXPORTED).pollDelay(QUIET).pollInterval(QUIET).until(() -> {
            List<ExportedSpan> now = exported.inTrace(traceId);
            boolean same = now.size() == settled.size();
            settled.clear();
            settled.addAll(now);
            return same;
        });
        return settled;
    }

    private static ExportedSpan single(List<ExportedSpan> trace, Predicate<ExportedSpan> which, String what) {
        List<ExportedSpan> found = trace.stream().filter(which).toList();
        assertEquals(1, found.size(), "exactly one span is " + what + render(trace));
        return found.get(0);
    }

    private static ExportedSpan onlyChild(List<ExportedSpan> trace, ExportedSpan parent, Predicate<ExportedSpan> which,
            String what) {
        return single(childrenOf(trace, parent), which, what + " under '" + parent.name() + "'" + render(trace));
    }

    private static ConsumerRecord<String, String> awaitResult(KafkaConsumer<String, String> consumer, String id)
            throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(200))) {
                if (id.equals(record.key()) && "result".equals(JSON.readTree(record.value()).path("type").asText())) {
                    return record;
                }
            }
        }
        throw new AssertionError("no result for " + id + " within 60 s");
    }

    private static KafkaProducer<String, String> producer(KafkaLogin login) {
        Properties props = new Properties();
        props.putAll(login.clientSettings());
        return new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
    }

    private static KafkaConsumer<String, String> consumer(KafkaLogin login) {
        Properties props = new Properties();
        props.putAll(login.clientSettings());
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "observability-it-" + UUID.randomUUID());
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        return new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer());
    }
}
