package io.execfarm.worker.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.Optional;

/** Settings of one worker instance, under {@code execfarm.worker}. */
@ConfigMapping(prefix = "execfarm.worker")
public interface WorkerConfig {

    /** Names this worker in events and logs; defaults to host name and process id. */
    Optional<String> id();

    /** Requests whose code is larger than this many UTF-8 bytes are rejected. */
    @WithDefault("1048576")
    int maxCodeBytes();

    /** How long a finished result stays in Redis, answering GETs and redelivered requests. */
    @WithDefault("PT1H")
    Duration resultTtl();
}
