package io.execfarm.worker.messaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.smallrye.mutiny.Uni;
import io.smallrye.reactive.messaging.kafka.KafkaConsumer;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RebalanceInProgressException;
import org.junit.jupiter.api.Test;

class RetriedCommitsTest {

    private static final TopicPartition HELD = new TopicPartition("execfarm.requests.python", 10);
    private static final TopicPartition MOVED = new TopicPartition("execfarm.requests.python", 3);
    private static final Duration BACKOFF = Duration.ofMillis(1);

    /** A consumer whose first {@code failing} commits fail as a rebalancing group's do, and which holds {@link #HELD}. */
    private static final class Commits {

        final List<Map<TopicPartition, OffsetAndMetadata>> tried = new ArrayList<>();
        final AtomicInteger failing;

        Commits(int failing) {
            this.failing = new AtomicInteger(failing);
        }

        @SuppressWarnings("unchecked")
        KafkaConsumer<String, byte[]> consumer() {
            return (KafkaConsumer<String, byte[]>) Proxy.newProxyInstance(getClass().getClassLoader(),
                    new Class<?>[] {KafkaConsumer.class}, (proxy, method, args) -> switch (method.getName()) {
                        case "commit" -> {
                            tried.add((Map<TopicPartition, OffsetAndMetadata>) args[0]);
                            yield failing.getAndDecrement() > 0
                                    ? Uni.createFrom().failure(new RebalanceInProgressException("rebalancing"))
                                    : Uni.createFrom().voidItem();
                        }
                        case "getAssignments" -> Uni.createFrom().item(Set.of(HELD));
                        default -> throw new UnsupportedOperationException(method.getName());
                    });
        }
    }

    @Test
    void aFailedCommitIsTriedAgainForThePartitionsStillHeld() {
        Commits commits = new Commits(2);
        new RetriedCommits.CommitRetrying<>(commits.consumer(), BACKOFF, Duration.ofSeconds(10))
                .commit(Map.of(HELD, new OffsetAndMetadata(8), MOVED, new OffsetAndMetadata(5)))
                .await().atMost(Duration.ofSeconds(10));
        assertEquals(3, commits.tried.size(), "the first try and two retries: " + commits.tried);
        assertEquals(Map.of(HELD, new OffsetAndMetadata(8)), commits.tried.get(2),
                "a partition given to another consumer meanwhile is that consumer's to commit");
    }

    @Test
    void aCommitThatKeepsFailingFailsOnceItsTimeIsUp() {
        Commits commits = new Commits(Integer.MAX_VALUE);
        Uni<Void> commit = new RetriedCommits.CommitRetrying<>(commits.consumer(), BACKOFF, Duration.ofMillis(200))
                .commit(Map.of(HELD, new OffsetAndMetadata(8)));
        RuntimeException failed = assertThrows(RuntimeException.class, () -> commit.await().atMost(Duration.ofSeconds(10)));
        assertInstanceOf(RebalanceInProgressException.class, failed.getCause(), "the last try's failure: " + failed);
    }
}
