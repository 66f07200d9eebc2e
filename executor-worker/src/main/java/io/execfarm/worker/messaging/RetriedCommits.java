package io.execfarm.worker.messaging;

import io.smallrye.common.annotation.Identifier;
import io.smallrye.mutiny.Uni;
import io.smallrye.reactive.messaging.kafka.KafkaConnectorIncomingConfiguration;
import io.smallrye.reactive.messaging.kafka.KafkaConsumer;
import io.smallrye.reactive.messaging.kafka.commit.KafkaCommitHandler;
import io.smallrye.reactive.messaging.kafka.commit.KafkaThrottledLatestProcessedCommit;
import io.vertx.mutiny.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.jboss.logging.Logger;

/**
 * The connector's throttled commit strategy, whose periodic commits are retried when they fail
 * (commit strategy {@value #NAME}).
 *
 * <p>The throttled strategy forgets the offsets of a commit that failed, and commits a partition
 * again only once another of its records is acknowledged. After a broker restart or a rebalance, a
 * failed commit (the group was rebalancing, the coordinator was moving) then left a partition's
 * last answered request uncommitted for as long as no new request came to that partition: the
 * group's lag said a request was waiting, and a worker that died meanwhile had it delivered again.
 * Here a failed commit is tried again, for the partitions the consumer still holds, until it
 * succeeds or {@link #GIVE_UP_AFTER} passes; the strategy's next commit waits for it.
 */
@ApplicationScoped
@Identifier(RetriedCommits.NAME)
public class RetriedCommits implements KafkaCommitHandler.Factory {

    public static final String NAME = "throttled-retried";

    private static final Logger LOG = Logger.getLogger(RetriedCommits.class);
    static final Duration FIRST_BACKOFF = Duration.ofMillis(200);
    static final Duration MAX_BACKOFF = Duration.ofSeconds(5);
    /** Past this, the partition is left to its next acknowledged record, as the connector would. */
    static final Duration GIVE_UP_AFTER = Duration.ofMinutes(2);

    private final KafkaCommitHandler.Factory throttled = new KafkaThrottledLatestProcessedCommit.Factory();

    @Override
    public KafkaCommitHandler create(KafkaConnectorIncomingConfiguration config, Vertx vertx,
            KafkaConsumer<?, ?> consumer, BiConsumer<Throwable, Boolean> reportFailure) {
        return throttled.create(config, vertx, new CommitRetrying<>(consumer, FIRST_BACKOFF, GIVE_UP_AFTER), reportFailure);
    }

    /** The channel's consumer, whose {@link #commit} is retried; everything else is the consumer's own. */
    static final class CommitRetrying<K, V> implements KafkaConsumer<K, V> {

        private final KafkaConsumer<K, V> consumer;
        private final Duration firstBackoff;
        private final Duration giveUpAfter;

        CommitRetrying(KafkaConsumer<K, V> consumer, Duration firstBackoff, Duration giveUpAfter) {
            this.consumer = consumer;
            this.firstBackoff = firstBackoff;
            this.giveUpAfter = giveUpAfter;
        }

        @Override
        public Uni<Void> commit(Map<TopicPartition, OffsetAndMetadata> offsets) {
            return consumer.commit(offsets)
                    .onFailure().recoverWithUni(first -> {
                        LOG.warnf("committing %s failed (%s); trying again for the partitions this consumer holds",
                                offsets, first.toString());
                        return Uni.createFrom().deferred(() -> consumer.getAssignments()
                                        .chain(held -> commitHeld(offsets, held)))
                                .onFailure().retry().withBackOff(firstBackoff, MAX_BACKOFF).withJitter(0.2)
                                .expireIn(giveUpAfter.toMillis())
                                .invoke(() -> LOG.infof("committed %s after a failed try", offsets))
                                .onFailure().invoke(last -> LOG.errorf(last, "gave up committing %s; each partition's next "
                                        + "acknowledged record commits it", offsets));
                    });
        }

        private Uni<Void> commitHeld(Map<TopicPartition, OffsetAndMetadata> offsets, Set<TopicPartition> held) {
            Map<TopicPartition, OffsetAndMetadata> stillHeld = offsets.entrySet().stream()
                    .filter(entry -> held.contains(entry.getKey()))
                    .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
            return stillHeld.isEmpty() ? Uni.createFrom().voidItem() : consumer.commit(stillHeld);
        }

        @Override
        public Map<String, ?> configuration() {
            return consumer.configuration();
        }

        @Override
        public <R> Uni<R> runOnPollingThread(Function<Consumer<K, V>, R> action) {
            return consumer.runOnPollingThread(action);
        }

        @Override
        public Uni<Void> runOnPollingThread(java.util.function.Consumer<Consumer<K, V>> action) {
            return consumer.runOnPollingThread(action);
        }

        @Override
        public Uni<Set<TopicPartition>> pause() {
            return consumer.pause();
        }

        @Override
        public Uni<Set<TopicPartition>> paused() {
            return consumer.paused();
        }

        @Override
        public Uni<Map<TopicPartition, OffsetAndMetadata>> committed(TopicPartition... partitions) {
            return consumer.committed(partitions);
        }

        @Override
        public Uni<Void> resume() {
            return consumer.resume();
        }

        @Override
        public Consumer<K, V> unwrap() {
            return consumer.unwrap();
        }

        @Override
        public Uni<Void> commitAsync(Map<TopicPartition, OffsetAndMetadata> offsets) {
            return consumer.commitAsync(offsets);
        }

        @Override
        public Uni<Map<TopicPartition, Long>> getPositions() {
            return consumer.getPositions();
        }

        @Override
        public Uni<Set<TopicPartition>> getAssignments() {
            return consumer.getAssignments();
        }

        @Override
        public Uni<Void> seek(TopicPartition partition, long offset) {
            return consumer.seek(partition, offset);
        }

        @Override
        public Uni<Void> seek(TopicPartition partition, OffsetAndMetadata offset) {
            return consumer.seek(partition, offset);
        }

        @Override
        public Uni<Void> seekToBeginning(Collection<TopicPartition> partitions) {
            return consumer.seekToBeginning(partitions);
        }

        @Override
        public Uni<Void> seekToEnd(Collection<TopicPartition> partitions) {
            return consumer.seekToEnd(partitions);
        }

        @Override
        public Uni<ConsumerGroupMetadata> consumerGroupMetadata() {
            return consumer.consumerGroupMetadata();
        }

        @Override
        public Uni<Void> resetToLastCommittedPositions() {
            return consumer.resetToLastCommittedPositions();
        }

        @Override
        public Uni<Map<String, List<PartitionInfo>>> lisTopics() {
            return consumer.lisTopics();
        }

        @Override
        public Uni<Map<String, List<PartitionInfo>>> lisTopics(Duration timeout) {
            return consumer.lisTopics(timeout);
        }

        @Override
        public Uni<List<PartitionInfo>> partitionsFor(String topic) {
            return consumer.partitionsFor(topic);
        }
    }
}
