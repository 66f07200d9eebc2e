package io.execfarm.dispatcher.config;

import io.quarkus.runtime.configuration.MemorySize;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** Settings of one dispatcher instance, under {@code execfarm.dispatcher}. */
@ConfigMapping(prefix = "execfarm.dispatcher")
public interface DispatcherConfig {

    /**
     * API keys and their tenants, as {@code key:tenant} entries ({@code EXECFARM_API_KEYS}). A
     * request without a known key in {@code X-API-Key} is refused with 401, unless open mode is on.
     */
    @WithDefault("none")
    List<String> apiKeys();

    /** Development only: requests without a key are accepted as tenant {@code open-tenant}. */
    @WithDefault("false")
    boolean openMode();

    /** The tenant of keyless requests in open mode. */
    @WithDefault("dev")
    String openTenant();

    /** Executions a tenant may have in flight at once; more are refused with 429. */
    @WithDefault("64")
    int maxInFlightPerTenant();

    /** Per-tenant exceptions to {@code max-in-flight-per-tenant}, by tenant. */
    Map<String, Integer> tenantLimits();

    /** The largest code accepted, in UTF-8 bytes. */
    @WithDefault("1048576")
    int maxCodeBytes();

    /** Timeout of a request that does not name one. */
    @WithDefault("PT30S")
    Duration defaultTimeout();

    /**
     * How long a queued execution may wait for a worker to start it: {@code ?wait=true} answers 504
     * after this when nothing started it, and in-flight accounting forgets it after timeout + this.
     */
    @WithDefault("PT30S")
    Duration queueTimeout();

    /**
     * How long the reply consumer keeps trying to store an event while Redis fails (longer than a
     * Redis restart) before it drops that event, logged, and goes on with the next: a stream then
     * waits for an event that never comes, and {@code ?wait=true} answers 504. Also how long an event
     * stream ({@code ?wait=true}, SSE) reads again while Redis fails its reads, before it ends in an error.
     */
    @WithDefault("PT2M")
    Duration replyStoreGiveUpAfter();

    /** How long executions, their events and results are kept. */
    @WithDefault("PT1H")
    Duration retention();

    /** How often live workers are looked up in Kafka (consumer group members). */
    @WithDefault("PT2S")
    Duration liveWorkersRefresh();

    /**
     * Where requests that name no session are published. {@code shared}: to
     * {@code execfarm.requests.<runtime>.shared}, taken by the workers' share group, where any worker
     * takes any request (throughput grows with workers past the partition count; needs Kafka 4.2 and
     * workers with {@code execfarm.worker.shared-requests.enabled}). {@code partitioned}: to
     * {@code execfarm.requests.<runtime>} with the session requests, taken by a consumer group in
     * partition order. See docs/architecture.md, "Delivery modes".
     */
    @WithDefault("shared")
    SessionlessDelivery sessionlessDelivery();

    enum SessionlessDelivery {
        SHARED,
        PARTITIONED
    }

    Sessions sessions();

    Files files();

    /** Files uploaded ahead of the requests that bring them ({@code POST /v1/files}). */
    interface Files {

        /** The largest upload; the workers take at most 16 MiB of files per request. */
        @WithDefault("8M")
        MemorySize maxUploadBytes();

        /** How long an upload is kept; collected files are kept as long as results ({@code retention}). */
        @WithDefault("PT1H")
        Duration lifetime();
    }

    /** What a session may be (POST /v1/sessions). */
    interface Sessions {

        /**
         * A session no request has named for this long ends. Also the most a client may ask for
         * ({@code idleTimeoutSeconds}); a client may ask for less.
         */
        @WithDefault("PT30M")
        Duration idleTimeout();

        /** A session ends this long after it was created, however much it is used. */
        @WithDefault("PT24H")
        Duration maxAge();

        /**
         * The most code a session's history may hold (UTF-8 bytes): what a worker replays to rebuild
         * the session. A request that would take it over is rejected with the limit.
         */
        @WithDefault("4M")
        MemorySize maxHistory();

        /**
         * The most a session's files may hold together ({@code PUT /v1/sessions/{id}/files/...}): all
         * of them are written into a process that takes the session over, in one command.
         */
        @WithDefault("16M")
        MemorySize maxFiles();
    }
}
