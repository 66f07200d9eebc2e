package io.execfarm.worker.messaging;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.execfarm.client.ClientSettings;
import io.execfarm.client.Execution;
import io.execfarm.client.ExecutionTimeoutException;
import io.execfarm.client.FarmClient;
import io.execfarm.client.Job;
import io.execfarm.client.Placement;
import io.execfarm.client.Submission;
import io.execfarm.contracts.ExecutionEvent;
import io.execfarm.contracts.Output;
import io.execfarm.contracts.Result;
import io.execfarm.contracts.Started;
import io.execfarm.contracts.Topics;
import io.execfarm.localinfra.InjectTestInfra;
import io.execfarm.localinfra.TestInfra;
import io.execfarm.localinfra.TestInfraResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The Java client ({@code client/}) against a real broker, Redis and worker with real Python
 * processes, sending as a trusted producer does (straight to the runtime topics, as the broker's
 * admin): streams in order, cancel, the client's own deadline, sessions, a missed result found
 * again, a broker restart mid-stream, and a thousand executions on one client.
 */
@QuarkusTest
@QuarkusTestResource(TestInfraResource.AsWorker.class)
class FarmClientOnKafkaTest {

    private static final Duration WAIT = Duration.ofSeconds(120);

    @ConfigProperty(name = "quarkus.redis.hosts")
    String redisUrl;

    @InjectTestInfra
    TestInfra infra;

    private FarmClient client;

    @BeforeEach
    void connect() {
        client = FarmClient.connect(settings());
    }

    @AfterEach
    void close() {
        client.close();
    }

    private ClientSettings settings() {
        return ClientSettings.direct("test", infra.kafkaAdmin().clientSettings());
    }

    @Test
    void anExecutionStreamsItsOutputInOrderAndEndsWithItsResult() throws Exception {
        Recorder recorder = new Recorder();
        client.submit(Job.of("python", "import sys, time\nfor i in range(5):\n    print('line', i, flush=True)\n"
                + "    time.sleep(0.3)\nprint('oops', file=sys.stderr)\n6 * 7")).subscribe(recorder);
        List<ExecutionEvent> events = recorder.done.get(WAIT.toSeconds(), TimeUnit.SECONDS);

        assertInstanceOf(Started.class, events.get(0), events.toString());
        Result result = assertInstanceOf(Result.class, events.get(events.size() - 1));
        assertEquals(Result.Status.OK, result.status(), result.toString());
        assertEquals("42", result.value());
        List<Output> outputs = events.stream().filter(Output.class::isInstance).map(Output.class::cast).toList();
        assertEquals(seqs(outputs.size()), outputs.stream().map(Output::seq).toList(), "seq from 0, no gap");
        assertEquals(IntStream.range(0, 5).mapToObj(i -> "line " + i + "\n").collect(Collectors.joining()),
                outputs.stream().filter(o -> o.stream() == Output.Stream.STDOUT).map(Output::text)
                        .collect(Collectors.joining()));

        Execution run = client.run(Job.of("python", "print('hi')\n'there'"));
        assertEquals("hi\n", run.stdout());
        assertEquals("'there'", run.result().value());
    }

    @Test
    void aCancelledExecutionEndsCancelledWithItsOutputSoFar() throws Exception {
        Recorder recorder = new Recorder();
        Submission submission = client.submit(Job.of("python",
                "import time\nprint('begun', flush=True)\ntime.sleep(60)"));
        submission.subscribe(recorder);
        await().atMost(WAIT).until(() -> recorder.events.stream().anyMatch(Output.class::isInstance));
        submission.cancel();
        List<ExecutionEvent> events = recorder.done.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        Result result = (Result) events.get(events.size() - 1);
        assertEquals(Result.Status.CANCELLED, result.status(), events.toString());
    }

    @Test
    void aResultThatNeverComesFailsAtTheClientsDeadlineWhichCancelsTheExecution() throws Exception {
        String nobodyReads = Topics.tenantTopics("test") + "void-" + UUID.randomUUID();
        try (FarmClient impatient = FarmClient.connect(settings().withQueueTimeout(Duration.ofSeconds(1))
                .withAnswerGrace(Duration.ofSeconds(1)));
                PlainKafka kafka = new PlainKafka(infra.kafkaAdmin());
                KafkaConsumer<String, String> control = kafka.consumer(Topics.CONTROL)) {
            Job job = Job.of("python", "1").withTimeout(Duration.ofSeconds(1));
            CompletableFuture<Execution> execution = impatient.execute(job, new Placement(nobodyReads, null));
            ExecutionException failed = assertThrows(ExecutionException.class,
                    () -> execution.get(60, TimeUnit.SECONDS));
            assertInstanceOf(ExecutionTimeoutException.class, failed.getCause());
            assertEquals(0, impatient.inFlight());
            List<String> cancels = new ArrayList<>();
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (cancels.isEmpty() && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> record : control.poll(Duration.ofMillis(200))) {
                    if (job.id().equals(record.key())) {
                        cancels.add(record.value());
                    }
                }
            }
            assertEquals(List.of("{\"v\":1,\"type\":\"cancel\",\"requestId\":\"" + job.id() + "\"}"), cancels);
        }
    }

    @Test
    void codeThatOutrunsItsTimeoutIsAnsweredTimeoutByTheFarm() throws Exception {
        Execution run = client.run(Job.of("python", "import time\ntime.sleep(30)").withTimeout(Duration.ofSeconds(1)));
        assertEquals(Result.Status.TIMEOUT, run.status(), run.toString());
    }

    @Test
    void aSessionKeepsItsStateFromOneExecutionToTheNext() throws Exception {
        try (TestSessions sessions = new TestSessions(redisUrl)) {
            String session = sessions.create("test");
            assertEquals(Result.Status.OK, client.run(Job.of("python", "x = 20").inSession(session)).status());
            assertEquals("42", client.run(Job.of("python", "x * 2 + 2").inSession(session)).result().value());
            Execution foreign = client.run(Job.of("python", "x").inSession(sessions.create("someone-else")));
            assertEquals("SessionNotFound", foreign.result().error().type(), foreign.toString());
        }
    }

    @Test
    void aResultWhoseStreamWasMissedIsFoundAgainByAnotherClient() throws Exception {
        String replyTopic = client.replyTopic();
        Instant sent = Instant.now();
        Execution original = client.run(Job.of("python", "print('kept')\n'found'"));
        try (FarmClient later = FarmClient.connect(settings().withReplyTopic(replyTopic))) {
            Execution found = later.find(original.requestId(), sent).orElseThrow();
            assertEquals(original.events(), found.events());
            assertTrue(later.find(UUID.randomUUID().toString(), sent).isEmpty(), "nothing for an id never sent");
        }
    }

    @Test
    void aBrokerRestartMidStreamLosesNothingAndRepeatsNothing() throws Exception {
        Assumptions.assumeTrue(infra != null && infra.owned(), "needs a broker this test started itself");
        Recorder recorder = new Recorder();
        client.submit(Job.of("python", "import time\nfor i in range(20):\n    print('line', i, flush=True)\n"
                + "    time.sleep(0.3)\n'through'").withTimeout(Duration.ofSeconds(90))).subscribe(recorder);
        await().atMost(WAIT).until(() -> recorder.events.stream().anyMatch(Output.class::isInstance));
        infra.restart(TestInfra.Component.KAFKA, Duration.ofSeconds(1), false);

        List<ExecutionEvent> events = recorder.done.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        Result result = (Result) events.get(events.size() - 1);
        assertEquals("'through'", result.value(), events.toString());
        assertEquals(IntStream.range(0, 20).mapToObj(i -> "line " + i + "\n").collect(Collectors.joining()),
                events.stream().filter(Output.class::isInstance).map(e -> ((Output) e).text())
                        .collect(Collectors.joining()),
                "every line once, in order");
    }

    /**
     * A thousand executions in flight on one client: one reply consumer and three threads serve
     * them all, and events nobody has asked for yet stay within the client's limit (plus one fetch,
     * read before the consumer pauses) until subscribers take them.
     */
    @Test
    void aThousandConcurrentExecutionsShareOneConsumerAndABoundedBuffer() throws Exception {
        int limit = 200;
        try (FarmClient many = FarmClient.connect(settings().withMaxBufferedEvents(limit))) {
            List<Submission> submissions = new ArrayList<>();
            for (int i = 0; i < 1000; i++) {
                submissions.add(many.submit(Job.of("python", "print(" + i + ")\n" + i).withId("many-" + i + "-"
                        + UUID.randomUUID())));
            }
            long clientThreads = Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.getName().startsWith("execfarm-client-")).count();
            assertTrue(clientThreads <= 3 * 2, clientThreads + " threads: at most three for each of this test's two "
                    + "clients, none per execution");

            await().atMost(WAIT).until(() -> many.buffered() >= limit);
            AtomicLong most = new AtomicLong();
            long watchUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
            while (System.nanoTime() < watchUntil) {
                most.accumulateAndGet(many.buffered(), Math::max);
                Thread.sleep(20);
            }
            assertTrue(most.get() <= limit + 500, "held " + most.get() + " events for a limit of " + limit
                    + " and fetches of 500 records");
            assertTrue(many.inFlight() > 0, "the consumer paused with executions still waiting");

            List<Recorder> recorders = new ArrayList<>();
            for (Submission submission : submissions) {
                Recorder recorder = new Recorder();
                submission.subscribe(recorder);
                recorders.add(recorder);
            }
            for (int i = 0; i < recorders.size(); i++) {
                List<ExecutionEvent> events = recorders.get(i).done.get(WAIT.toSeconds(), TimeUnit.SECONDS);
                Result result = (Result) events.get(events.size() - 1);
                assertEquals(Integer.toString(i), result.value(), events.toString());
                assertEquals(i + "\n", events.stream().filter(Output.class::isInstance).map(e -> ((Output) e).text())
                        .collect(Collectors.joining()), events.toString());
            }
            assertEquals(0, many.buffered());
        }
    }

    private static List<Long> seqs(int n) {
        return java.util.stream.LongStream.range(0, n).boxed().toList();
    }

    /** Takes everything it is given and completes with it. */
    static final class Recorder implements Flow.Subscriber<ExecutionEvent> {
        final List<ExecutionEvent> events = new java.util.concurrent.CopyOnWriteArrayList<>();
        final CompletableFuture<List<ExecutionEvent>> done = new CompletableFuture<>();

        @Override
        public void onSubscribe(Flow.Subscription subscription) {
            subscription.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(ExecutionEvent event) {
            events.add(event);
        }

        @Override
        public void onError(Throwable failure) {
            done.completeExceptionally(failure);
        }

        @Override
        public void onComplete() {
            done.complete(List.copyOf(events));
        }
    }
}
