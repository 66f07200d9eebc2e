package io.execfarm.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.execfarm.accounts.KafkaLogin;
import io.execfarm.contracts.Topics;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The floor the farm is measured against: a process that takes a request from Kafka, runs its
 * code on one warm Python process over a pipe and produces the result event, with no Redis, no
 * framework, no sandbox, no claim, no events but the result. It reads {@code execfarm.requests.bare}
 * in the wire format, so the benchmark's client talks to it as to the farm. Run in a JVM of its
 * own, so that its CPU is counted apart from the client's.
 */
final class BareBaseline implements AutoCloseable {

    static final String RUNTIME = "bare";
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The warm process: one JSON line in (the code), one out (its value or error), like the farm's driver. */
    private static final String LOOP = """
            import json, sys
            for line in sys.stdin:
                code = json.loads(line)
                try:
                    try:
                        value = repr(eval(compile(code, "<request>", "eval"), {}))
                    except SyntaxError:
                        exec(compile(code, "<request>", "exec"), {})
                        value = None
                    out = {"ok": True, "value": value}
                except BaseException as e:
                    out = {"ok": False, "error": repr(e)}
                sys.stdout.write(json.dumps(out) + "\\n")
                sys.stdout.flush()
            """;

    private final Process process;

    private BareBaseline(Process process) {
        this.process = process;
    }

    /** Creates its topic (as many partitions as the farm's), starts it, and returns once its consumer holds them. */
    static BareBaseline start(KafkaLogin admin, int partitions) throws Exception {
        try (Admin client = Admin.create(admin.clientSettings())) {
            client.createTopics(List.of(new NewTopic(Topics.requests(RUNTIME), partitions, (short) 1))).all()
                    .get(30, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw e;
            }
        }
        // The same Java as the client's.
        String java = ProcessHandle.current().info().command().orElse("java");
        ProcessBuilder baseline = new ProcessBuilder(java, "-Xmx256m", "-cp", System.getProperty("java.class.path"),
                BareBaseline.class.getName()).redirectError(ProcessBuilder.Redirect.INHERIT);
        // The login in the environment, which only its owner reads, never on the command line.
        baseline.environment().put("KAFKA_BOOTSTRAP", admin.bootstrap());
        baseline.environment().put("KAFKA_ADMIN_PASSWORD", admin.password());
        Process process = baseline.start();
        BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        String line = out.readLine();
        if (!"ready".equals(line)) {
            process.destroyForcibly();
            throw new IllegalStateException("the bare baseline did not start (it said " + line + ")");
        }
        return new BareBaseline(process);
    }

    long pid() {
        return process.pid();
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }

    public static void main(String[] args) throws Exception {
        KafkaLogin login = KafkaLogin.admin(System.getenv());
        Process python = new ProcessBuilder("python3", "-u", "-I", "-B", "-c", LOOP)
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        OutputStream toPython = python.getOutputStream();
        BufferedReader fromPython = new BufferedReader(new InputStreamReader(python.getInputStream(), StandardCharsets.UTF_8));
        Properties p = new Properties();
        p.putAll(login.clientSettings());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        Properties c = new Properties();
        c.putAll(login.clientSettings());
        c.put(ConsumerConfig.GROUP_ID_CONFIG, "execfarm-bench-bare");
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
             KafkaConsumer<String, String> consumer = new KafkaConsumer<>(c, new StringDeserializer(), new StringDeserializer())) {
            consumer.subscribe(List.of(Topics.requests(RUNTIME)));
            while (consumer.assignment().isEmpty()) {
                consumer.poll(Duration.ofMillis(100));
            }
            System.out.println("ready");
            System.out.flush();
            while (true) {
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(100))) {
                    JsonNode request = JSON.readTree(record.value());
                    long start = System.nanoTime();
                    toPython.write((JSON.writeValueAsString(request.path("code").asText()) + "\n")
                            .getBytes(StandardCharsets.UTF_8));
                    toPython.flush();
                    JsonNode outcome = JSON.readTree(fromPython.readLine());
                    long execMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                    String id = request.path("id").asText();
                    ObjectNode result = JSON.createObjectNode().put("v", 1).put("type", "result").put("requestId", id)
                            .put("status", outcome.path("ok").asBoolean() ? "ok" : "error")
                            .put("truncated", false).put("workerId", RUNTIME).put("attempt", 1);
                    result.set("value", outcome.get("value"));
                    if (!outcome.path("ok").asBoolean()) {
                        result.set("error", JSON.createObjectNode().put("type", "Error").put("message",
                                outcome.path("error").asText()));
                    }
                    result.set("timings", JSON.valueToTree(Map.of("queuedMs", 0, "acquireMs", 0, "execMs", execMs,
                            "totalMs", execMs)));
                    producer.send(new ProducerRecord<>(request.path("replyTo").asText(), id, result.toString()));
                }
            }
        }
    }
}
