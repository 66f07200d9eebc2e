package io.execfarm.client;

import io.execfarm.contracts.ExecutionEvent;
import io.execfarm.contracts.MalformedMessageException;
import io.execfarm.contracts.Result;
import io.execfarm.contracts.WireCodec;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.utils.Utils;

/**
 * Finds an execution's events on a reply topic after the fact: a client that was away while its
 * result came (restarted, reconnected, another process) reads the one partition the request id
 * maps to, from a little before the request was sent to the partition's end as it is now. The
 * worker asks the same of a result it may have published before it died ({@code PublishedResults}).
 */
public final class ReplyTopicScan {

    /** Producers' clocks may run apart: the scan starts this long before the time it is given. */
    private static final Duration CLOCK_MARGIN = Duration.ofMinutes(1);

    private final Consumer<String, byte[]> reader;
    private final WireCodec codec;
    private final Duration limit;

    /**
     * @param reader a consumer of no group, used by this scan alone (one scan at a time)
     * @param limit  how long each call to Kafka, and each scan, may take
     */
    public ReplyTopicScan(Consumer<String, byte[]> reader, WireCodec codec, Duration limit) {
        this.reader = reader;
        this.codec = codec;
        this.limit = limit;
    }

    /**
     * The execution's events in order up to its result, or empty when {@code topic} holds no
     * result of it since about {@code sentAround}.
     *
     * @throws IllegalStateException when the partition cannot be read within the scan's limit
     */
    public Optional<Execution> find(String topic, String requestId, Instant sentAround) {
        int partitions = reader.partitionsFor(topic, limit).size();
        // The producer's default partitioner for a keyed record: where the worker's events went.
        TopicPartition partition = new TopicPartition(topic,
                Utils.toPositive(Utils.murmur2(requestId.getBytes(StandardCharsets.UTF_8))) % partitions);
        reader.assign(List.of(partition));
        long since = sentAround.minus(CLOCK_MARGIN).toEpochMilli();
        OffsetAndTimestamp from = reader.offsetsForTimes(Map.of(partition, since), limit).get(partition);
        if (from == null) {
            return Optional.empty();
        }
        long end = reader.endOffsets(List.of(partition), limit).get(partition);
        reader.seek(partition, from.offset());
        EventOrder order = new EventOrder();
        List<ExecutionEvent> events = new ArrayList<>();
        long deadline = System.nanoTime() + limit.toNanos();
        while (reader.position(partition) < end && order.result() == null) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("reading " + partition + " for " + requestId + " took over " + limit);
            }
            for (ConsumerRecord<String, byte[]> record : reader.poll(Duration.ofMillis(200))) {
                if (requestId.equals(record.key()) && order.result() == null) {
                    decode(record.value()).ifPresent(event -> events.addAll(order.accept(event)));
                }
            }
        }
        Result result = order.result();
        return result == null ? Optional.empty() : Optional.of(new Execution(requestId, events, result, 0, 0));
    }

    private Optional<ExecutionEvent> decode(byte[] value) {
        try {
            return Optional.of(codec.decodeEvent(value));
        } catch (MalformedMessageException e) {
            return Optional.empty();
        }
    }
}
