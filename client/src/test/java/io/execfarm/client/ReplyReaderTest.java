package io.execfarm.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.execfarm.contracts.ExecutionEvent;
import io.execfarm.contracts.Output;
import io.execfarm.contracts.Result;
import io.execfarm.contracts.WireCodec;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The reply consumer's routing on Kafka's own MockConsumer: whose events, which are faults, when it pauses. */
class ReplyReaderTest {

    private static final String TOPIC = "execfarm.tenant.t.replies";
    private static final TopicPartition PARTITION = new TopicPartition(TOPIC, 0);

    private final WireCodec codec = new WireCodec();
    private final MockConsumer<String, byte[]> consumer = new MockConsumer<>("latest");
    private final ConcurrentMap<String, Pending> waiting = new ConcurrentHashMap<>();
    private final Backlog backlog = new Backlog(3);
    private final List<DuplicateResult> duplicates = new ArrayList<>();
    private final ReplyReader reader = new ReplyReader(consumer, codec, waiting, backlog, duplicates::add);
    private Thread thread;
    private long offset;

    @BeforeEach
    void start() {
        consumer.updatePartitions(TOPIC, List.of(new PartitionInfo(TOPIC, 0, Node.noNode(), new Node[0], new Node[0])));
        consumer.updateEndOffsets(Map.of(PARTITION, 0L));
        reader.startAtEnd(TOPIC, Duration.ofSeconds(1));
        thread = new Thread(reader);
        thread.start();
    }

    @AfterEach
    void stop() throws InterruptedException {
        reader.stop();
        thread.join(5000);
    }

    @Test
    void eventsGoToTheirExecutionInOrderAndAResultAgainIsReportedNotPassedOn() throws Exception {
        Recorded a = expect("a");
        send("b", codec.encode(output("b", 0)));
        send("a", codec.encode(output("a", 1)));
        send("a", codec.encode(output("a", 0)));
        send("a", codec.encode(result("a", "w1")));
        send("a", codec.encode(result("a", "w2")));
        awaitCondition(() -> duplicates.size() == 1);
        assertEquals(List.of(output("a", 0), output("a", 1), result("a", "w1")), a.events);
        assertEquals("w2", duplicates.get(0).second().workerId());
        assertFalse(waiting.containsKey("a"));
    }

    @Test
    void anEventThatIsNotTheContractsFailsItsExecutionAndAnEventOfANewerKindIsSkipped() throws Exception {
        Recorded a = expect("a");
        send("a", bytes("{\"v\":1,\"type\":\"progress\",\"requestId\":\"a\",\"percent\":50}"));
        send("a", codec.encode(output("a", 0)));
        awaitCondition(() -> a.events.size() == 1);
        assertEquals(null, a.failure, "a type this client does not know is skipped");
        send("a", bytes("{\"v\":1,\"type\":\"result\",\"requestId\":\"a\",\"status\":\"ok\"}"));
        awaitCondition(() -> a.failure != null);
        assertTrue(a.failure.getMessage().contains("is not the wire contract's"), a.failure.getMessage());
        assertFalse(waiting.containsKey("a"));
    }

    @Test
    void aFullBacklogPausesTheConsumerUntilHalfIsTaken() throws Exception {
        expect("a");
        backlog.add(3);
        awaitCondition(() -> !consumer.paused().isEmpty());
        backlog.taken(2);
        awaitCondition(() -> consumer.paused().isEmpty());
    }

    @Test
    void aConsumerThatFailsForGoodFailsEveryExecutionWaiting() throws Exception {
        Recorded a = expect("a");
        Recorded b = expect("b");
        consumer.setPollException(new KafkaException("the login was refused"));
        awaitCondition(() -> a.failure != null && b.failure != null);
        assertTrue(a.failure.getMessage().contains("the login was refused"), a.failure.getMessage());
        assertTrue(waiting.isEmpty());
        assertTrue(reader.failure() instanceof KafkaException);
    }

    private Recorded expect(String id) {
        Recorded recorded = new Recorded();
        waiting.put(id, new Pending(id, recorded));
        return recorded;
    }

    private void send(String key, byte[] value) {
        consumer.schedulePollTask(() -> consumer.addRecord(new ConsumerRecord<>(TOPIC, 0, offset++, key, value)));
    }

    private static byte[] bytes(String json) {
        return json.getBytes(StandardCharsets.UTF_8);
    }

    private static Output output(String id, long seq) {
        return new Output(id, seq, Output.Stream.STDOUT, "line " + seq);
    }

    private static Result result(String id, String worker) {
        return new Result(id, Result.Status.OK, "1", null, false, Result.Timings.NONE, worker, 1);
    }

    private static void awaitCondition(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within 5 s");
            }
            Thread.sleep(10);
        }
    }

    private static final class Recorded implements ExecutionSink {
        final List<ExecutionEvent> events = new java.util.concurrent.CopyOnWriteArrayList<>();
        volatile Throwable failure;

        @Override
        public void next(ExecutionEvent event) {
            events.add(event);
        }

        @Override
        public void end(Result result, long answeredNanos) {
            events.add(result);
        }

        @Override
        public void fail(Throwable cause) {
            failure = cause;
        }
    }
}
