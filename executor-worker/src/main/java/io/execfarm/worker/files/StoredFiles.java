package io.execfarm.worker.files;

import io.execfarm.contracts.CollectedFile;
import io.execfarm.contracts.InputFile;
import io.execfarm.contracts.RedisKeys;
import io.execfarm.worker.config.WorkerConfig;
import io.execfarm.worker.delivery.Retries;
import io.quarkus.redis.datasource.RedisDataSource;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Files kept in Redis between requests (RedisKeys#fileMeta): a request's references read as
 * its tenant before the run, and the collected files too large to ride in its result stored after
 * it, for the dispatcher to serve and later requests to bring. Each belongs to one tenant; another
 * tenant's file is answered exactly as a missing one.
 */
@ApplicationScoped
public class StoredFiles {

    /** A request's files could not all be had: the request does not run. {@code type} is its result's error type. */
    public static final class Refused extends Exception {
        private final String type;

        Refused(String type, String message) {
            super(message);
            this.type = type;
        }

        public String type() {
            return type;
        }
    }

    private final RedisDataSource redis;
    private final Retries retries;
    private final WorkerConfig.Files limits;
    private final Duration lifetime;

    public StoredFiles(RedisDataSource redis, Retries retries, WorkerConfig config) {
        this.redis = redis;
        this.retries = retries;
        this.limits = config.files();
        this.lifetime = config.resultTtl();
    }

    /** {@code files} with every reference replaced by the stored file's content, read as {@code tenant}. */
    public List<InputFile> resolve(String tenant, List<InputFile> files) throws Refused {
        List<InputFile> resolved = new ArrayList<>();
        long total = 0;
        for (InputFile file : files) {
            if (file.ref() == null) {
                resolved.add(file);
                total += file.bytes().length;
                continue;
            }
            Map<String, String> meta = retries.call("reading file " + file.ref(),
                    () -> redis.hash(String.class).hgetall(RedisKeys.fileMeta(file.ref())));
            if (meta.isEmpty() || !tenant.equals(meta.get("tenant"))) {
                throw new Refused("InputFileNotFound", "no file " + file.ref() + " for tenant " + tenant + " (never stored, another tenant's, "
                        + "or expired), for " + file.path());
            }
            byte[] content = retries.call("reading file " + file.ref(),
                    () -> redis.value(byte[].class).get(RedisKeys.fileContent(file.ref())));
            if (content == null) {
                throw new Refused("InputFileNotFound", "file " + file.ref() + " expired before the request ran, for " + file.path());
            }
            total += content.length;
            resolved.add(InputFile.of(file.path(), content));
        }
        if (total > limits.maxInputBytes().asLongValue()) {
            throw new Refused("InputFilesTooLarge", "the request's files hold " + total + " bytes together, over the limit of "
                    + limits.maxInputBytes().asLongValue());
        }
        return resolved;
    }

    /**
     * The collected files as the result carries them: inline while their total stays within the
     * inline limit (the result is one Kafka record), the rest stored as {@code tenant}'s, for as long
     * as results are kept, and referenced.
     */
    public List<CollectedFile> keep(String tenant, List<CollectedFile> files) {
        List<CollectedFile> kept = new ArrayList<>();
        long inline = 0;
        for (CollectedFile file : files) {
            if (file.base64() == null || inline + file.size() <= limits.inlineMaxBytes().asLongValue()) {
                inline += file.base64() == null ? 0 : file.size();
                kept.add(file);
                continue;
            }
            String id = UUID.randomUUID().toString();
            byte[] content = Base64.getDecoder().decode(file.base64());
            retries.run("storing collected file " + file.path(), () -> {
                redis.value(byte[].class).setex(RedisKeys.fileContent(id), lifetime.toSeconds(), content);
                redis.hash(String.class).hset(RedisKeys.fileMeta(id), Map.of("tenant", tenant,
                        "name", file.path().substring(file.path().lastIndexOf('/') + 1), "size", Long.toString(file.size()),
                        "sha256", file.sha256(), "mediaType", file.mediaType()));
                redis.key().expire(RedisKeys.fileMeta(id), lifetime.toSeconds());
            });
            kept.add(file.storedAs(id));
        }
        return kept;
    }
}
