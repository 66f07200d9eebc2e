package io.execfarm.worker.delivery;

import io.execfarm.worker.config.WorkerConfig;
import io.execfarm.worker.metrics.WorkerMetrics;
import io.quarkus.redis.datasource.RedisDataSource;
import io.vertx.mutiny.redis.client.Command;
import io.vertx.mutiny.redis.client.Request;
import io.vertx.mutiny.redis.client.Response;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.List;
import org.jboss.logging.Logger;

/**
 * Sends a write that must outlive a Redis failover, followed, when replicas are asked for
 * ({@link WorkerConfig.ReplicatedWrites}), by {@code WAIT} on the same connection: the two go as
 * one batch, which a cluster client sends to the master of the write's slot, the only node whose
 * {@code WAIT} says anything about it. A replica that confirmed the write is the one a failover
 * promotes (each master has one), so the write survives its master.
 */
@ApplicationScoped
public class ReplicatedWrites {

    private static final Logger LOG = Logger.getLogger(ReplicatedWrites.class);

    private final RedisDataSource redis;
    private final WorkerMetrics metrics;
    private final int replicas;
    private final String timeoutMillis;

    public ReplicatedWrites(RedisDataSource redis, WorkerMetrics metrics, WorkerConfig config) {
        this.redis = redis;
        this.metrics = metrics;
        this.replicas = config.replicatedWrites().replicas();
        this.timeoutMillis = Long.toString(Math.max(1, config.replicatedWrites().timeout().toMillis()));
    }

    /** Runs {@code script} on {@code keys} with {@code args}; returns the script's answer. */
    public Response eval(String script, List<String> keys, List<String> args) {
        Request eval = Request.cmd(Command.EVAL).arg(script).arg(keys.size());
        keys.forEach(eval::arg);
        args.forEach(eval::arg);
        return write(eval);
    }

    /** Sets {@code key} to {@code value}, expiring after {@code ttlSeconds}. */
    public void setex(String key, long ttlSeconds, byte[] value) {
        write(Request.cmd(Command.SETEX).arg(key).arg(ttlSeconds).arg(value));
    }

    private Response write(Request request) {
        if (replicas == 0) {
            return redis.getReactive().getRedis().sendAndAwait(request);
        }
        List<Response> answers = redis.getReactive().getRedis().batchAndAwait(List.of(request,
                Request.cmd(Command.WAIT).arg(replicas).arg(timeoutMillis)));
        int confirmed = answers.get(1).toInteger();
        if (confirmed < replicas) {
            metrics.unreplicatedWrite();
            LOG.debugf("%d of %d Redis replicas confirmed a write within %s ms", confirmed, replicas, timeoutMillis);
        }
        return answers.get(0);
    }
}
