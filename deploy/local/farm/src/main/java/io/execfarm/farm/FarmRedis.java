package io.execfarm.farm;

import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.JedisCluster;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.util.JedisURIHelper;

/**
 * A farm's Redis, for its command-line tools and benchmarks: one server, or a Redis Cluster when
 * {@code REDIS_CLIENT_TYPE=cluster} (the apps' own setting), {@code REDIS_URL} then naming some
 * of its nodes, comma-separated.
 */
public final class FarmRedis {

    private FarmRedis() {
    }

    /** A client of the Redis the farm's environment ({@code ./farm env}) names. */
    public static UnifiedJedis connect(Map<String, String> env) {
        return connect(env.get("REDIS_URL"), "cluster".equals(env.get("REDIS_CLIENT_TYPE")));
    }

    public static UnifiedJedis connect(String redisUrls, boolean cluster) {
        List<URI> nodes = nodes(redisUrls);
        if (!cluster) {
            return new UnifiedJedis(nodes.get(0));
        }
        Set<HostAndPort> seeds = nodes.stream().map(node -> new HostAndPort(node.getHost(), node.getPort()))
                .collect(Collectors.toSet());
        return new JedisCluster(seeds, DefaultJedisClientConfig.builder()
                .password(JedisURIHelper.getPassword(nodes.get(0))).build());
    }

    /** The nodes {@code REDIS_URL} names, in its order. */
    public static List<URI> nodes(String redisUrls) {
        return List.of(redisUrls.split(",")).stream().map(String::strip).map(URI::create).toList();
    }
}
