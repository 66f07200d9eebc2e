package io.execfarm.bench;

import io.execfarm.accounts.KafkaLogin;
import io.execfarm.contracts.Topics;
import io.execfarm.farm.FarmRedis;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartitionInfo;
import redis.clients.jedis.Jedis;

/**
 * The nodes of a cluster farm ({@code ./farm up --cluster}) a fault may hit, named as
 * {@code deploy/local/infra} names them: {@code kafka-1}..{@code kafka-3} (node ids 1 to 3),
 * {@code redis-1}..{@code redis-6} (in {@code REDIS_URL}'s order).
 */
final class ClusterNodes {

    private static final int BROKERS = 3;

    private ClusterNodes() {
    }

    static String anyBroker(Random random) {
        return "kafka-" + (1 + random.nextInt(BROKERS));
    }

    /** The broker that leads most partitions of the Python request topic, where the load goes. */
    static String leadingBroker(KafkaLogin admin) throws Exception {
        try (Admin client = Admin.create(admin.clientSettings())) {
            String topic = Topics.requests("python");
            TopicDescription description = client.describeTopics(List.of(topic)).allTopicNames()
                    .get(30, TimeUnit.SECONDS).get(topic);
            Map<Integer, Integer> led = new TreeMap<>();
            for (TopicPartitionInfo partition : description.partitions()) {
                if (partition.leader() != null) {
                    led.merge(partition.leader().id(), 1, Integer::sum);
                }
            }
            int leader = led.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
            return "kafka-" + leader;
        }
    }

    /** One of the Redis nodes that are masters now, as each node says of itself ({@code ROLE}). */
    static String anyRedisMaster(Map<String, String> env, Random random) {
        List<URI> nodes = FarmRedis.nodes(env.get("REDIS_URL"));
        List<String> masters = new ArrayList<>();
        for (int i = 0; i < nodes.size(); i++) {
            try (Jedis node = new Jedis(nodes.get(i))) {
                if ("master".equals(String.valueOf(node.role().get(0)))) {
                    masters.add("redis-" + (i + 1));
                }
            } catch (RuntimeException unreachable) {
                // A node down (restarting after an earlier fault) is no master to kill.
            }
        }
        if (masters.isEmpty()) {
            throw new IllegalStateException("no Redis node answers as a master");
        }
        return masters.get(random.nextInt(masters.size()));
    }
}
