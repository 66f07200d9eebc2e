package io.execfarm.worker.messaging;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.execfarm.accounts.KafkaLogin;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.ListShareGroupOffsetsSpec;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.awaitility.core.ConditionTimeoutException;

/** Kafka as a client in another language sees it: plain clients, JSON written and read by hand. */
final class PlainKafka implements AutoCloseable {

    static final ObjectMapper JSON = new ObjectMapper();

    private final KafkaLogin login;
    private final KafkaProducer<String, byte[]> producer;

    /** @param login whom the clients log in as: the broker's admin, or a tenant */
    PlainKafka(KafkaLogin login) {
        this.login = login;
        Properties p = new Properties();
        p.putAll(login.clientSettings());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 8 * 1024 * 1024);
        producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
    }

    void send(String topic, String key, String json) {
        send(topic, key, json.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    void send(String topic, String key, byte[] value) {
        try {
            producer.send(new ProducerRecord<>(topic, key, value)).get();
        } catch (Exception e) {
            throw new IllegalStateException("could not send to " + topic, e);
        }
    }

    void send(String topic, int partition, String key, String json) {
        try {
            producer.send(new ProducerRecord<>(topic, partition, key, json.getBytes(java.nio.charset.StandardCharsets.UTF_8))).get();
        } catch (Exception e) {
            throw new IllegalStateException("could not send to " + topic + " partition " + partition, e);
        }
    }

    /**
     * One partition of {@code topic} from each member of consumer group {@code group}: records
     * sent to different ones are consumed side by side, not one after the other.
     */
    List<Integer> partitionPerMember(String group, String topic) {
        try (Admin admin = Admin.create(login.clientSettings())) {
            List<Integer> partitions = new java.util.ArrayList<>();
            for (var member : admin.describeConsumerGroups(List.of(group)).all().get(30, TimeUnit.SECONDS).get(group).members()) {
                member.assignment().topicPartitions().stream().filter(tp -> tp.topic().equals(topic)).findFirst()
                        .ifPresent(tp -> partitions.add(tp.partition()));
            }
            return partitions;
        } catch (Exception e) {
            throw new IllegalStateException("could not describe " + group, e);
        }
    }

    /**
     * Makes consumer group {@code group} rebalance twice: a consumer joins it, takes its share of
     * {@code topic}'s partitions, and leaves without committing anything, so what it fetched is
     * delivered again to the group's other members.
     */
    void joinAndLeave(String group, String topic) {
        Properties p = new Properties();
        p.putAll(login.clientSettings());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG,
                org.apache.kafka.clients.consumer.CooperativeStickyAssignor.class.getName());
        try (KafkaConsumer<String, String> intruder = new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer())) {
            intruder.subscribe(List.of(topic));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (intruder.assignment().isEmpty() && System.nanoTime() < deadline) {
                intruder.poll(java.time.Duration.ofMillis(200));
            }
            if (intruder.assignment().isEmpty()) {
                throw new IllegalStateException("joined " + group + " but was given no partition of " + topic);
            }
        }
    }

    /** Members of consumer group {@code group} now (0 when it does not exist). */
    int members(String group) {
        try (Admin admin = Admin.create(login.clientSettings())) {
            return admin.describeConsumerGroups(List.of(group)).all().get(30, TimeUnit.SECONDS).get(group).members().size();
        } catch (Exception e) {
            throw new IllegalStateException("could not describe " + group, e);
        }
    }

    /** Creates {@code topic} (one partition) with the given topic-level settings. */
    void createTopic(String topic, Map<String, String> configs) {
        try (Admin admin = Admin.create(login.clientSettings())) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1).configs(configs))).all().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("could not create " + topic, e);
        }
    }

    /** Sets a topic-level setting of {@code topic}, or removes it (back to the broker's default) when {@code value} is null. */
    void setTopicConfig(String topic, String name, String value) {
        try (Admin admin = Admin.create(login.clientSettings())) {
            ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
            AlterConfigOp op = value == null
                    ? new AlterConfigOp(new ConfigEntry(name, ""), AlterConfigOp.OpType.DELETE)
                    : new AlterConfigOp(new ConfigEntry(name, value), AlterConfigOp.OpType.SET);
            admin.incrementalAlterConfigs(Map.of(resource, List.of(op))).all().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("could not set " + name + " of " + topic, e);
        }
    }

    /**
     * Waits until consumer group {@code group} has committed every record of {@code topic} sent so
     * far: the worker has finished with each (it commits after a request's result is published), so
     * nothing it does later can answer one of them.
     */
    void awaitConsumed(String group, String topic, Duration timeout) {
        try (Admin admin = Admin.create(login.clientSettings())) {
            // Exceptions are retried: after a broker restart, its group coordinator answers only once loaded.
            Map<TopicPartition, Long> ends = await().atMost(timeout).ignoreExceptions()
                    .until(() -> endOffsets(admin, topic), Objects::nonNull);
            Map<TopicPartition, Long> behind = new ConcurrentHashMap<>(ends);
            try {
                await().atMost(timeout).ignoreExceptions().until(() -> {
                    Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group)
                            .partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
                    ends.forEach((partition, end) -> {
                        long done = committed.get(partition) == null ? 0 : committed.get(partition).offset();
                        if (done < end) {
                            behind.put(partition, end - done);
                        } else {
                            behind.remove(partition);
                        }
                    });
                    return behind.isEmpty();
                });
            } catch (ConditionTimeoutException e) {
                throw new IllegalStateException(group + " did not commit every record of " + topic + " within "
                        + timeout + "; records not committed, by partition: " + behind + " (" + e.getMessage() + ")", e);
            }
        }
    }

    private static Map<TopicPartition, Long> endOffsets(Admin admin, String topic) throws Exception {
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS).get(topic).partitions()
                .forEach(p -> latest.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest()));
        Map<TopicPartition, Long> ends = new HashMap<>();
        admin.listOffsets(latest).all().get(30, TimeUnit.SECONDS).forEach((partition, end) -> ends.put(partition, end.offset()));
        return ends;
    }

    /**
     * Waits until share group {@code group} has settled every record delivered to it so far
     * (accepted, rejected or archived): none can be delivered, and so answered, again.
     */
    void awaitShareConsumed(String group, Duration timeout) {
        try (Admin admin = Admin.create(login.clientSettings())) {
            await().atMost(timeout).ignoreExceptions().until(() -> admin.listShareGroupOffsets(Map.of(group, new ListShareGroupOffsetsSpec()))
                    .partitionsToOffsetInfo(group).get(30, TimeUnit.SECONDS).values().stream()
                    .filter(Objects::nonNull).allMatch(offset -> offset.lag().orElse(0L) == 0));
        } catch (ConditionTimeoutException e) {
            throw new IllegalStateException("share group " + group + " did not settle every record within " + timeout
                    + " (" + e.getMessage() + ")", e);
        }
    }

    /**
     * The {@code dead-letter-reason} header of each dead letter keyed by one of {@code keys}, read
     * until every key has one or {@code timeout} passes; a dead letter of one without the header fails.
     */
    static Map<String, String> deadLetterReasons(KafkaConsumer<String, String> deadLetters, Set<String> keys,
            Duration timeout) {
        Map<String, String> reasons = new HashMap<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (reasons.size() < keys.size() && System.nanoTime() < deadline) {
            for (ConsumerRecord<String, String> r : deadLetters.poll(Duration.ofMillis(200))) {
                if (keys.contains(r.key())) {
                    Header reason = r.headers().lastHeader("dead-letter-reason");
                    if (reason == null) {
                        fail("the reason travels in a header: " + r);
                    }
                    reasons.put(r.key(), new String(reason.value(), StandardCharsets.UTF_8));
                }
            }
        }
        return reasons;
    }

    /**
     * Everything on the consumer's partitions up to their ends as they are now: what was published
     * before this call, all of it, and nothing that a fixed wait would happen to catch.
     */
    static List<ConsumerRecord<String, String>> readToEnd(KafkaConsumer<String, String> consumer, Duration timeout) {
        List<ConsumerRecord<String, String>> records = new ArrayList<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (consumer.assignment().isEmpty() && System.nanoTime() < deadline) {
            consumer.poll(Duration.ofMillis(100)).forEach(records::add);
        }
        Map<TopicPartition, Long> ends = consumer.endOffsets(consumer.assignment());
        while (ends.entrySet().stream().anyMatch(end -> consumer.position(end.getKey()) < end.getValue())) {
            if (System.nanoTime() > deadline) {
                fail("could not read to the end of " + ends + " within " + timeout);
            }
            consumer.poll(Duration.ofMillis(100)).forEach(records::add);
        }
        return records;
    }

    /** A consumer of {@code topic} from its beginning, in a group of its own. */
    KafkaConsumer<String, String> consumer(String topic) {
        Properties p = new Properties();
        p.putAll(login.clientSettings());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "test-" + UUID.randomUUID());
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer());
        consumer.subscribe(List.of(topic));
        return consumer;
    }

    /** Every event of request {@code id} up to and including its result. */
    static List<JsonNode> eventsUntilResult(KafkaConsumer<String, String> consumer, String id, Duration timeout) {
        return eventsUntil(consumer, id, "result", timeout);
    }

    /** The result event of request {@code id}. */
    static JsonNode resultOf(KafkaConsumer<String, String> consumer, String id, Duration timeout) {
        List<JsonNode> events = eventsUntilResult(consumer, id, timeout);
        return events.get(events.size() - 1);
    }

    /** Every event of request {@code id} up to and including its first event of {@code type}. */
    static List<JsonNode> eventsUntil(KafkaConsumer<String, String> consumer, String id, String type, Duration timeout) {
        List<JsonNode> events = new ArrayList<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(100))) {
                if (!id.equals(record.key())) {
                    continue;
                }
                JsonNode event = read(record.value());
                events.add(event);
                if (type.equals(event.path("type").asText())) {
                    return events;
                }
            }
        }
        return fail("no " + type + " event for " + id + " within " + timeout + "; events so far: " + events);
    }

    static JsonNode read(String json) {
        try {
            return JSON.readTree(json);
        } catch (Exception e) {
            throw new IllegalStateException("not JSON: " + json, e);
        }
    }

    static String request(String id, String code, String extraFields) {
        return "{\"v\":1,\"id\":\"" + id + "\",\"runtime\":\"python\",\"code\":" + quote(code)
                + (extraFields.isEmpty() ? "" : "," + extraFields) + "}";
    }

    static String quote(String s) {
        try {
            return JSON.writeValueAsString(s);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        producer.close();
    }
}
