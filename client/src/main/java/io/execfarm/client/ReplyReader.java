package io.execfarm.client;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.execfarm.contracts.Display;
import io.execfarm.contracts.ExecutionEvent;
import io.execfarm.contracts.MalformedMessageException;
import io.execfarm.contracts.Output;
import io.execfarm.contracts.Result;
import io.execfarm.contracts.Started;
import io.execfarm.contracts.WireCodec;
import java.io.IOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentMap;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;

import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;

/**
 * The client's one reply consumer, on a thread of its own, shared by all its executions. It reads
 * every partition of the reply topic from where they ended when the client started (assigned, no
 * consumer group: nothing to join or rebalance, nothing read twice), hands each event to its
 * execution's {@link EventOrder}, and pauses while the {@link Backlog} is full. Records of
 * requests it does not wait for (another client's on a shared reply topic) are skipped unread
 * past their key.
 */
final class ReplyReader implements Runnable {

    private static final Duration POLL = Duration.ofMillis(100);
    /** Answered executions remembered, so that a result arriving again is told apart from a stranger's. */
    private static final int REMEMBERED = 10_000;
    private static final Set<String> KNOWN_TYPES = Set.of(Started.TYPE, Output.TYPE, Display.TYPE, Result.TYPE);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final org.apache.kafka.clients.consumer.Consumer<String, byte[]> consumer;
    private final WireCodec codec;
    private final ConcurrentMap<String, Pending> waiting;
    private final Backlog backlog;
    private final Consumer<DuplicateResult> duplicates;
    private final Map<String, Result> answered = new LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Result> eldest) {
            return size() > REMEMBERED;
        }
    };
    private volatile boolean running = true;
    private volatile Throwable failure;
    private boolean paused;

    ReplyReader(org.apache.kafka.clients.consumer.Consumer<String, byte[]> consumer, WireCodec codec,
            ConcurrentMap<String, Pending> waiting, Backlog backlog, Consumer<DuplicateResult> duplicates) {
        this.consumer = consumer;
        this.codec = codec;
        this.waiting = waiting;
        this.backlog = backlog;
        this.duplicates = duplicates;
    }

    /**
     * Takes every partition of {@code topic} at its end: whatever the client sends after this returns
     * is answered after it, so nothing is missed.
     */
    void startAtEnd(String topic, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<TopicPartition> partitions = partitions(topic, timeout);
        // A topic made a moment ago may not be in the broker's metadata yet.
        while (partitions.isEmpty() && System.nanoTime() < deadline) {
            sleep(Duration.ofMillis(100));
            partitions = partitions(topic, timeout);
        }
        if (partitions.isEmpty()) {
            throw new IllegalStateException("reply topic " + topic + " does not exist");
        }
        consumer.assign(partitions);
        consumer.seekToEnd(partitions);
        partitions.forEach(partition -> consumer.position(partition, timeout));
    }

    private List<TopicPartition> partitions(String topic, Duration timeout) {
        return consumer.partitionsFor(topic, timeout).stream().map(info -> new TopicPartition(topic, info.partition()))
                .toList();
    }

    private static void sleep(Duration pause) {
        try {
            Thread.sleep(pause.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted waiting for the reply topic", e);
        }
    }

    @Override
    public void run() {
        try {
            while (running) {
                for (ConsumerRecord<String, byte[]> record : consumer.poll(POLL)) {
                    read(record, System.nanoTime());
                }
                flowControl();
            }
        } catch (WakeupException e) {
            if (running) {
                failAll(e);
            }
        } catch (RuntimeException e) {
            // Not an outage (the consumer rides those out itself): a login refused, the topic gone.
            failAll(e);
        } finally {
            consumer.close(org.apache.kafka.clients.consumer.CloseOptions.timeout(Duration.ofSeconds(2)));
        }
    }

    void stop() {
        running = false;
        consumer.wakeup();
    }

    /** Why the consumer stopped reading while the client was open, or null while it reads. */
    Throwable failure() {
        return failure;
    }

    private void failAll(RuntimeException cause) {
        failure = cause;
        IllegalStateException stopped = new IllegalStateException("the client's reply consumer stopped: " + cause,
                cause);
        waiting.values().forEach(pending -> {
            if (waiting.remove(pending.requestId(), pending)) {
                pending.ended();
                pending.sink().fail(stopped);
            }
        });
    }

    private void read(ConsumerRecord<String, byte[]> record, long readNanos) {
        String id = record.key();
        Pending pending = id == null ? null : waiting.get(id);
        if (pending == null && (id == null || !answered.containsKey(id))) {
            return;
        }
        ExecutionEvent event;
        try {
            event = codec.decodeEvent(record.value());
        } catch (MalformedMessageException e) {
            if (pending != null && !newerKind(record.value()) && waiting.remove(id, pending)) {
                pending.ended();
                pending.sink().fail(new IllegalStateException("an event of " + id + " on " + record.topic()
                        + " is not the wire contract's: " + e.getMessage(), e));
            }
            return;
        }
        if (pending == null) {
            if (event instanceof Result again) {
                duplicates.accept(new DuplicateResult(id, answered.get(id), again));
            }
            return;
        }
        for (ExecutionEvent next : pending.order().accept(event)) {
            if (next instanceof Result result) {
                if (waiting.remove(id, pending)) {
                    pending.ended();
                    answered.put(id, result);
                    pending.sink().end(result, readNanos);
                }
            } else {
                pending.sink().next(next);
            }
        }
    }

    /**
     * Whether an event the codec could not read is of a type this client does not know: a later v1
     * may add one (readers first), and readers ignore what they do not know. Anything else that
     * cannot be read is the sender's fault, and waiting on would only end at the deadline.
     */
    private static boolean newerKind(byte[] value) {
        try {
            String type = JSON.readTree(value).path("type").asText("");
            return !type.isEmpty() && !KNOWN_TYPES.contains(type);
        } catch (IOException e) {
            return false;
        }
    }

    private void flowControl() {
        if (!paused && backlog.full()) {
            consumer.pause(consumer.assignment());
            paused = true;
        } else if (paused && backlog.drained()) {
            consumer.resume(consumer.assignment());
            paused = false;
        }
    }
}
