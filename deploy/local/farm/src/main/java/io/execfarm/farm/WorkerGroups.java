package io.execfarm.farm;

import io.execfarm.accounts.KafkaLogin;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.ListShareGroupOffsetsSpec;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.ShareGroupDescription;
import org.apache.kafka.clients.admin.SharePartitionOffsetInfo;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.TopicPartition;

/**
 * The workers' groups as Kafka sees them, two per runtime: the consumer group of the ordered request
 * topic, {@code execfarm-workers-<runtime>}, and the share group of the shared one,
 * {@code execfarm-shared-<runtime>}.
 */
final class WorkerGroups implements AutoCloseable {

    /** A runtime's group: its state, members, partitions assigned, and requests not yet consumed. */
    record Group(String runtime, String state, int members, int assignedPartitions, int partitions, long lag) {

        /** Every partition has an owner and no rebalance is under way. */
        boolean settled() {
            return "STABLE".equals(state) && partitions > 0 && assignedPartitions == partitions;
        }
    }

    /** A runtime's share group: its state, members, and records on its shared topic not yet delivered for good. */
    record SharedGroup(String runtime, String state, int members, long lag) {
    }

    private static final long TIMEOUT_SECONDS = 10;

    private final Admin admin;

    WorkerGroups(KafkaLogin admin) {
        Properties properties = new Properties();
        properties.putAll(admin.clientSettings());
        properties.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5000);
        properties.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10000);
        this.admin = Admin.create(properties);
    }

    Group describe(String runtime) throws InterruptedException, ExecutionException, TimeoutException {
        String groupId = "execfarm-workers-" + runtime;
        String topic = "execfarm.requests." + runtime;
        ConsumerGroupDescription group = admin.describeConsumerGroups(List.of(groupId)).all()
                .get(TIMEOUT_SECONDS, TimeUnit.SECONDS).get(groupId);
        int assigned = group.members().stream().map(MemberDescription::assignment)
                .mapToInt(assignment -> (int) assignment.topicPartitions().stream()
                        .filter(tp -> tp.topic().equals(topic)).count())
                .sum();
        var topics = admin.describeTopics(List.of(topic)).allTopicNames().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        int partitions = topics.containsKey(topic) ? topics.get(topic).partitions().size() : 0;
        return new Group(runtime, group.groupState() == null ? GroupState.UNKNOWN.name() : group.groupState().name(),
                group.members().size(), assigned, partitions, lag(groupId, topic, partitions));
    }

    SharedGroup describeShared(String runtime) throws InterruptedException, ExecutionException, TimeoutException {
        String groupId = "execfarm-shared-" + runtime;
        ShareGroupDescription group = admin.describeShareGroups(List.of(groupId)).all()
                .get(TIMEOUT_SECONDS, TimeUnit.SECONDS).get(groupId);
        Map<TopicPartition, SharePartitionOffsetInfo> offsets = admin.listShareGroupOffsets(
                Map.of(groupId, new ListShareGroupOffsetsSpec())).partitionsToOffsetInfo(groupId)
                .get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        // A partition the group has not started on has no offset information yet.
        long lag = offsets.values().stream().filter(Objects::nonNull).mapToLong(offset -> offset.lag().orElse(0L)).sum();
        return new SharedGroup(runtime, group.groupState() == null ? GroupState.UNKNOWN.name() : group.groupState().name(),
                group.members().size(), lag);
    }

    /** Records on the runtime's topic that its group has not committed yet. */
    private long lag(String groupId, String topic, int partitions)
            throws InterruptedException, ExecutionException, TimeoutException {
        Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(groupId)
                .partitionsToOffsetAndMetadata().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        Map<TopicPartition, OffsetSpec> earliest = new HashMap<>();
        for (int p = 0; p < partitions; p++) {
            latest.put(new TopicPartition(topic, p), OffsetSpec.latest());
            earliest.put(new TopicPartition(topic, p), OffsetSpec.earliest());
        }
        Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> ends = admin.listOffsets(latest).all()
                .get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> starts = admin.listOffsets(earliest).all()
                .get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        long lag = 0;
        for (Map.Entry<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> end : ends.entrySet()) {
            OffsetAndMetadata done = committed.get(end.getKey());
            long from = done != null ? done.offset() : starts.get(end.getKey()).offset();
            lag += Math.max(0, end.getValue().offset() - from);
        }
        return lag;
    }

    @Override
    public void close() {
        admin.close();
    }
}
