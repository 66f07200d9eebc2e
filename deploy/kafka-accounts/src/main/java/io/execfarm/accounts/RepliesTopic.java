package io.execfarm.accounts;

import io.execfarm.contracts.Topics;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * {@code execfarm.replies}, made as the workers make it (24 partitions, replicated up to three times,
 * one fewer in sync) by whoever sets a farm up before its dispatcher starts: a dispatcher that starts
 * before any worker has made it is refused its replies consumer's topic (Kafka says "not authorized"
 * to a user that may not create it), and the connector's retry was seen to read nothing for minutes,
 * the dispatcher unhealthy meanwhile (compose-check, and the dispatcher's tests on a new cluster).
 */
public final class RepliesTopic {

    private RepliesTopic() {
    }

    /** Makes the topic unless it exists, as the broker's admin. */
    public static void ensure(KafkaLogin admin) {
        try (Admin kafka = Admin.create(admin.clientSettings())) {
            int brokers = kafka.describeCluster().nodes().get(60, TimeUnit.SECONDS).size();
            short factor = (short) Math.max(1, Math.min(3, brokers));
            NewTopic replies = new NewTopic(Topics.REPLIES, 24, factor).configs(Map.of(
                    TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG, Integer.toString(Math.max(1, factor - 1))));
            kafka.createTopics(List.of(replies)).all().get(60, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw new IllegalStateException("could not create " + Topics.REPLIES + ": " + e.getCause(), e);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted creating " + Topics.REPLIES, e);
        } catch (TimeoutException e) {
            throw new IllegalStateException("could not create " + Topics.REPLIES + " within a minute", e);
        }
    }
}
