package io.execfarm.worker.results;

import io.execfarm.contracts.Result;
import io.execfarm.contracts.WireCodec;
import io.execfarm.worker.config.WorkerConfig;
import io.quarkus.redis.datasource.ReactiveRedisDataSource;
import io.quarkus.redis.datasource.value.ReactiveValueCommands;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;

/** Finished results in Redis, by request id, for a TTL. */
@ApplicationScoped
public class ResultStore {

    private final ReactiveValueCommands<String, byte[]> values;
    private final WireCodec codec;
    private final long ttlSeconds;

    public ResultStore(ReactiveRedisDataSource redis, WireCodec codec, WorkerConfig config) {
        this.values = redis.value(byte[].class);
        this.codec = codec;
        this.ttlSeconds = config.resultTtl().toSeconds();
    }

    public static String key(String requestId) {
        return "execfarm:result:" + requestId;
    }

    public Uni<Void> put(Result result) {
        return values.setex(key(result.requestId()), ttlSeconds, codec.encode(result));
    }
}
