package io.execfarm.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.execfarm.accounts.KafkaLogin;
import io.execfarm.contracts.Topics;
import io.execfarm.farm.DispatcherClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * The steady load of {@code ./farm chaos}: closed-loop clients on plain Kafka clients, as a
 * producer in any language would be. A third of them run a session each and check that its state
 * survived every request (a counter that must go up by one per successful request); the others
 * send stateless requests with output. Every result record on the clients' reply topic is kept
 * (by partition and offset, so a record read twice counts once), so a request answered twice shows
 * up as such, and one never answered as lost.
 */
final class ChaosTraffic implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Longer than any fault lasts here: a request unanswered for this long is counted lost. */
    static final Duration ANSWER_WITHIN = Duration.ofMinutes(3);

    /** One request and everything that came back for it. */
    static final class Sent {
        final String id;
        final String session;
        final long sentNanos;
        final List<JsonNode> results = new CopyOnWriteArrayList<>();
        /** Partition and offset of each result record read: a record read twice is one result. */
        final Set<String> resultRecords = ConcurrentHashMap.newKeySet();
        final CompletableFuture<JsonNode> first = new CompletableFuture<>();
        volatile long answeredNanos;

        Sent(String id, String session, long sentNanos) {
            this.id = id;
            this.session = session;
            this.sentNanos = sentNanos;
        }

        long latencyMillis() {
            return TimeUnit.NANOSECONDS.toMillis(answeredNanos - sentNanos);
        }
    }

    /** A session whose state was found lost: when, and what the request saw. */
    record SessionLoss(String session, long atNanos, String seen) {
    }

    private final KafkaProducer<String, String> producer;
    private final KafkaConsumer<String, String> consumer;
    private final DispatcherClient http;
    private final String tenant;
    private final String replies = Topics.tenantTopics("chaos") + "replies-" + UUID.randomUUID();
    private final ConcurrentMap<String, Sent> sent = new ConcurrentHashMap<>();
    private final List<SessionLoss> sessionLosses = new CopyOnWriteArrayList<>();
    private final AtomicBoolean sending = new AtomicBoolean(true);
    private final AtomicBoolean polling = new AtomicBoolean(true);
    private final List<Thread> clients = new ArrayList<>();
    private final AtomicLong readAgain = new AtomicLong();
    private final Thread poller;

    ChaosTraffic(KafkaLogin kafka, DispatcherClient http, String tenant) {
        this.http = http;
        this.tenant = tenant;
        producer = PlainClients.producer(kafka);
        consumer = PlainClients.consumer(kafka, "chaos", replies);
        poller = new Thread(this::poll, "chaos-poller");
        poller.start();
    }

    /** Starts {@code count} clients; every third runs a session of its own. */
    void start(int count) throws Exception {
        for (int i = 0; i < count; i++) {
            String session = i % 3 == 0 ? http.createSession("python") : null;
            Thread client = new Thread(session == null ? this::stateless : () -> inSession(session), "chaos-client-" + i);
            client.setDaemon(true);
            clients.add(client);
        }
        clients.forEach(Thread::start);
    }

    /** Stops sending; requests already sent are still answered and counted. */
    void stopSending() throws InterruptedException {
        sending.set(false);
        for (Thread client : clients) {
            client.join(ANSWER_WITHIN.toMillis() + 10_000);
        }
    }

    /** Waits until every request sent has a result or {@code within} passed, then a little longer for duplicates. */
    void drain(Duration within) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        while (System.nanoTime() < deadline && sent.values().stream().anyMatch(s -> s.results.isEmpty())) {
            Thread.sleep(200);
        }
        Thread.sleep(5000);
    }

    Collection<Sent> sent() {
        return sent.values();
    }

    List<SessionLoss> sessionLosses() {
        return sessionLosses;
    }

    /**
     * Result records this client's consumer read a second time: a consumer goes back to its last
     * committed offset when its group rejoins after a broker restart. Not answers given twice.
     */
    long readAgain() {
        return readAgain.get();
    }

    private void stateless() {
        long n = 0;
        while (sending.get()) {
            n++;
            String code = "import time\nprint('chaos', " + n + ", flush=True)\ntime.sleep(0.05)\nprint('done')\n" + n + " * 2";
            await(send(null, code));
        }
    }

    /**
     * Increments a counter in the session; it must equal the number of successful requests so far.
     * A session the farm lost (its record gone, or its state rebuilt short) is counted once and
     * the client carries on with a new one.
     */
    private void inSession(String initial) {
        String session = initial;
        long succeeded = 0;
        while (sending.get()) {
            JsonNode result = await(send(session, "counter = globals().get('counter', 0) + 1\nprint(counter)\ncounter"));
            if (result == null) {
                continue;
            }
            String status = result.path("status").asText();
            if ("ok".equals(status)) {
                long value = Long.parseLong(result.path("value").asText("-1"));
                if (value != succeeded + 1) {
                    sessionLosses.add(new SessionLoss(session, System.nanoTime(),
                            "counter " + value + " after " + succeeded + " successful requests"));
                }
                succeeded = value;
            } else if ("SessionNotFound".equals(result.at("/error/type").asText())) {
                sessionLosses.add(new SessionLoss(session, System.nanoTime(), result.at("/error/message").asText()));
                try {
                    session = http.createSession("python");
                    succeeded = 0;
                } catch (Exception e) {
                    return;
                }
            }
        }
    }

    private Sent send(String session, String code) {
        String id = UUID.randomUUID().toString();
        ObjectNode request = JSON.createObjectNode().put("v", 1).put("id", id).put("runtime", "python")
                .put("code", code).put("tenant", tenant).put("replyTo", replies);
        if (session != null) {
            request.put("session", session);
        }
        Sent record = new Sent(id, session, System.nanoTime());
        sent.put(id, record);
        producer.send(new ProducerRecord<>(Topics.requests("python"), session != null ? session : id, request.toString()));
        return record;
    }

    private static JsonNode await(Sent request) {
        try {
            return request.first.get(ANSWER_WITHIN.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } catch (Exception e) {
            return null;
        }
    }

    private void poll() {
        while (polling.get()) {
            for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(100))) {
                try {
                    JsonNode event = JSON.readTree(r.value().getBytes(StandardCharsets.UTF_8));
                    Sent request = sent.get(event.path("requestId").asText());
                    if (request != null && "result".equals(event.path("type").asText())) {
                        if (!request.resultRecords.add(r.partition() + ":" + r.offset())) {
                            readAgain.incrementAndGet();
                            continue;
                        }
                        if (request.results.isEmpty()) {
                            request.answeredNanos = System.nanoTime();
                        }
                        request.results.add(event);
                        request.first.complete(event);
                    }
                } catch (Exception e) {
                    System.err.println("chaos: an unreadable event: " + e.getMessage());
                }
            }
        }
    }

    @Override
    public void close() throws InterruptedException {
        sending.set(false);
        polling.set(false);
        poller.join();
        consumer.close();
        producer.close();
    }
}
