package io.execfarm.worker.config;

import io.execfarm.worker.pool.ReusePolicy;
import io.execfarm.worker.sandbox.Isolation;
import io.quarkus.runtime.configuration.MemorySize;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithDefaults;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/** Settings of one worker instance, under {@code execfarm.worker}. */
@ConfigMapping(prefix = "execfarm.worker")
public interface WorkerConfig {

    /** Names this worker in events and logs; defaults to host name and process id. */
    Optional<String> id();

    Files files();

    /** Requests whose code is larger than this many UTF-8 bytes are rejected. */
    @WithDefault("1048576")
    int maxCodeBytes();

    /** How long a finished result stays in Redis, answering GETs and redelivered requests. */
    @WithDefault("PT1H")
    Duration resultTtl();

    /** The most output a request may ask for ({@code limits.maxOutputBytes}); larger asks are lowered to it. */
    @WithDefault("16M")
    MemorySize maxOutputBytes();

    /**
     * How long a worker's claim on a running request lasts without renewal. After a hard stop,
     * another worker takes the request over this long plus half as long again (the takeover grace,
     * in which a holder that was only cut off from Redis takes its claim back) after the last renewal.
     */
    @WithDefault("PT6S")
    Duration claimTtl();

    /** How long a request may wait for a process before it is rejected. */
    @WithDefault("PT60S")
    Duration acquireTimeout();

    /** Per-runtime settings, keyed by runtime name; anything unset keeps execfarm's default for that runtime. */
    @WithDefaults
    Map<String, Runtime> runtime();

    Sandbox sandbox();

    Session session();

    OutputBatch outputBatch();

    Topics topics();

    Intake intake();

    SharedRequests sharedRequests();

    Retry retry();

    ReplicatedWrites replicatedWrites();

    /**
     * Writes whose loss in a Redis failover would break a promise (a request's claim, its stored
     * result, a session's history) wait until this many replicas hold them ({@code WAIT}). Off by
     * default: a single Redis has no replica to wait for.
     */
    interface ReplicatedWrites {

        /** Replicas that must hold such a write before it counts as done; 0 waits for none. */
        @WithDefault("0")
        int replicas();

        /**
         * Longest a write waits for its replicas. A write they have not confirmed by then stands
         * (counted in {@code execfarm_redis_unreplicated_writes_total}): with its replica down, a
         * master would otherwise stop taking writes until the replica is back.
         */
        @WithDefault("PT0.5S")
        Duration timeout();
    }

    /**
     * How a worker takes requests from its consumer group ({@code execfarm.requests.<runtime>}): one
     * consumer per runtime, whose records run side by side up to the pool's free processes, those of
     * one key (a session's) in order (docs/architecture.md, "Intake").
     */
    interface Intake {

        /**
         * Records that may wait in the worker, per pool process, behind an earlier record of their
         * key that is running. They hold no process; past this many, the consumer takes nothing
         * more until one of them starts.
         */
        @WithDefault("4")
        int waitingPerProcess();

        /** At shutdown, how long requests still running may finish before they are stopped. */
        @WithDefault("PT10S")
        Duration shutdownGrace();
    }

    /**
     * Requests that name no session, taken through a Kafka share group from
     * {@code execfarm.requests.<runtime>.shared}: any consumer takes any record, so throughput grows
     * with consumers past the partition count (docs/architecture.md, "Delivery modes"). Requests with
     * a session, and any request published to {@code execfarm.requests.<runtime>}, keep the
     * partition-ordered consumer group.
     */
    interface SharedRequests {

        /**
         * Whether this worker consumes the shared request topics of the runtimes it serves, one share
         * consumer per pool process. Needs a broker with share groups (Kafka 4.2 and later).
         */
        @WithDefault("true")
        boolean enabled();

        /**
         * Partitions of each shared request topic, when this worker creates it. A share group gives a
         * partition to several consumers only when it has more consumers than partitions; with fewer,
         * each consumer owns partitions as in a consumer group. One partition lets every consumer
         * take every request.
         */
        @WithDefault("1")
        int partitions();

        /**
         * How long a request stays acquired by its consumer between renewals (the share group's
         * {@code share.record.lock.duration.ms}, which the broker bounds, 15 s to 60 s by default).
         * A consumer renews it three times a lock while the request runs; after a hard stop, another
         * worker gets the request this long after the last renewal.
         */
        @WithDefault("PT15S")
        Duration lockDuration();

        /** At shutdown, how long requests still running may finish before they are released to other workers. */
        @WithDefault("PT10S")
        Duration shutdownGrace();
    }

    /**
     * How the worker retries its own operations on Redis and Kafka (claims, results, sessions):
     * only failures that may pass (unreachable, restarting, timing out) are retried; anything else
     * is not retried at all.
     */
    interface Retry {

        @WithDefault("PT0.1S")
        Duration firstBackoff();

        @WithDefault("PT5S")
        Duration maxBackoff();

        /**
         * How long a failing operation is retried before the worker gives up on that request: it
         * goes to the dead-letter topic with the reason, its sender gets an error result where one
         * can be written, and its partition moves on. Longer than a broker or Redis restart.
         */
        @WithDefault("PT2M")
        Duration giveUpAfter();
    }

    /** How sessions are held on this worker; what a session may hold is set when it is created (dispatcher). */
    interface Session {

        /**
         * Longest one snippet of a session's history may take when it is replayed to rebuild the
         * session on a new process; a snippet that takes longer fails the rebuild.
         */
        @WithDefault("PT60S")
        Duration replayTimeout();

        /** A process pinned to a session that has seen no request for this long is retired (the session lives on). */
        @WithDefault("PT10M")
        Duration pinIdleTimeout();

        /** How often pinned processes are checked for sessions that ended (deleted or expired). */
        @WithDefault("PT5S")
        Duration reapInterval();
    }

    /**
     * Files in and out. A request's files, and what it collects, pass through the process's working
     * directory (a tmpfs of {@code tmp-size}, 64 MiB, counted in its memory limit) and the worker's
     * heap, one request's at a time per process.
     */
    interface Files {

        /** The largest file collected; a larger one is listed with {@code FileTooLarge} instead of its content. */
        @WithDefault("8M")
        MemorySize maxFileBytes();

        /** All of one request's collected files together; past it the rest are listed with {@code CollectLimitExceeded}. */
        @WithDefault("16M")
        MemorySize maxRequestBytes();

        /** Files one request collects; more matches are listed once with {@code TooManyFiles}. */
        @WithDefault("100")
        int maxFiles();

        /**
         * Collected files ride in the result (one Kafka record) while their total stays within this;
         * the rest are stored in Redis for as long as results are kept, and referenced.
         */
        @WithDefault("1M")
        MemorySize inlineMaxBytes();

        /** All of one request's input files together, inline and referenced; more and the request is rejected. */
        @WithDefault("16M")
        MemorySize maxInputBytes();
    }

    /** How output chunks become output events on the reply topic. */
    interface OutputBatch {

        /** Most characters in one output event. */
        @WithDefault("32768")
        int maxChars();

        /** Longest a chunk waits for more output of its stream before it is published. */
        @WithDefault("PT0.02S")
        Duration linger();
    }

    /** The farm's topics, created at start-up when absent. */
    interface Topics {

        /** Partitions of the request and reply topics: the most useful consumers per runtime. */
        @WithDefault("24")
        int partitions();

        /**
         * Copies of each topic the worker creates; by default three, or as many as the cluster has
         * brokers when it has fewer (the local farm's single broker: one).
         */
        Optional<Short> replicationFactor();

        /**
         * How many copies must hold a write before the broker acknowledges it (producers use
         * acks=all); by default one fewer than the replication factor, at least one: a cluster of
         * three rides through the loss of one broker without losing an acknowledged record.
         */
        OptionalInt minInsyncReplicas();
    }

    interface Runtime {

        /** The interpreter: a name found on the sandbox PATH, or an absolute path. */
        Optional<String> binary();

        /** Interpreter flags, replacing the defaults (Julia: -O, --compile, --sysimage, --heap-size-hint...). */
        Optional<List<String>> flags();

        /** Code run before a process counts as warm; replaces the default warm-up. */
        Optional<String> warmUp();

        /** Packages (Julia) or modules (Python) loaded into every process before the warm-up. */
        Optional<List<String>> preload();

        /** RLIMIT_AS of each process. */
        Optional<MemorySize> addressSpace();

        /**
         * The memory limit of each process's control group (Julia default 4G, Python 2G), where the
         * worker can create groups (root; cgroup v1, or v2 with memory and pids delegated). A process that exceeds it is killed and its
         * request ends {@code crashed} with error type {@code MemoryLimitExceeded}.
         */
        Optional<MemorySize> memoryLimit();

        /**
         * The heap size each process's garbage collector works to stay under (Julia >= 1.9:
         * {@code --heap-size-hint}; default 2G; 0 for none). Older Julia and Python take no hint.
         */
        Optional<MemorySize> heapSizeHint();

        /**
         * Paths user code may read besides the system directories and the interpreter's
         * installation, shown at the same place, where the sandbox gives processes a private view
         * (bubblewrap): a sysimage, a package depot or environment.
         */
        Optional<List<Path>> readOnlyPaths();

        /**
         * Whether processes share the worker's network. Off (the default), they have loopback only
         * and reach nothing: not the broker, Redis, the dispatcher or anything else. On is a risk:
         * user code can then reach everything the worker can, the farm's own services included.
         */
        @WithDefault("false")
        boolean network();

        /** How long start-up plus warm-up may take. */
        Optional<Duration> startTimeout();

        /** Environment added for this runtime on top of its defaults (Julia: OPENBLAS_NUM_THREADS=1, JULIA_THREAD_SLEEP_THRESHOLD=0), e.g. JULIA_DEPOT_PATH. */
        Map<String, String> env();

        /**
         * Julia: every process records the method signatures it compiles ({@code --trace-compile})
         * to a file of its own in this directory (made writable for the sandbox's uids). Recordings
         * of real traffic are what {@code deploy/julia/build-sysimage.jl} builds the next sysimage
         * from.
         */
        Optional<Path> traceCompileDir();

        Pool pool();
    }

    interface Pool {

        /** Most processes alive at once. */
        @WithDefault("4")
        int size();

        /** Warm idle processes kept ready; pre-started at boot. */
        @WithDefault("4")
        int minIdle();

        /** Processes started at the same time. */
        @WithDefault("2")
        int startParallelism();

        /** A process is retired after this many requests. */
        @WithDefault("1000")
        int maxExecutions();

        /** A process whose resident memory grew past this is retired after its request; 0 for no limit. */
        @WithDefault("2G")
        MemorySize maxResident();

        /**
         * Most processes pinned to sessions at once; the least recently used is retired to make room.
         * Defaults to size - 1, so one process is always left for requests without a session (a pool
         * of one pins nothing: each session request then rebuilds its session on a fresh process).
         */
        Optional<Integer> maxPinned();

        /**
         * Which requests a used process may run: always, tenant (only its tenant's) or never. Under
         * always one tenant's code can leave a quiet Julia task, or a forged driver, on a process
         * that serves another tenant next (docs/architecture.md, "A warm process is a clean
         * slate"): only for tenants that trust each other.
         */
        @WithDefault("tenant")
        ReusePolicy reuse();
    }

    interface Sandbox {

        /** Off only for debugging: processes then run with the scrubbed environment alone. */
        @WithDefault("true")
        boolean enabled();

        /**
         * The strongest isolation to use: bubblewrap-and-uid (default) takes the strongest the
         * machine allows; a weaker one pins it, e.g. to compare, or where namespaces misbehave.
         */
        @WithDefault("bubblewrap-and-uid")
        Isolation isolation();

        /**
         * The weakest isolation this worker accepts: where the machine allows only less, the worker
         * refuses to start and says what is missing. The default, bubblewrap, needs bubblewrap,
         * python3-seccomp and user namespaces; only a developer's machine should accept less.
         */
        @WithDefault("bubblewrap")
        Isolation minimumIsolation();

        /** Parent of the per-process directories; defaults to a directory under java.io.tmpdir. */
        Optional<Path> workRoot();

        /**
         * When the worker is root, each pool slot of each runtime runs as a uid (and gid) of its
         * own: the worker takes the first block of free uids at or above this one, so workers on
         * one host never share one (see uid-lock-dir).
         */
        @WithDefault("61000")
        int uidBase();

        /**
         * Where the workers of a host hold the uids they use: a lock on a file per uid, dropped by
         * the kernel when a worker dies. Every worker of a host must see the same directory.
         */
        @WithDefault("/run/execfarm/uids")
        Path uidLockDir();

        /**
         * CPU a process may use over its whole life; request timeouts end single requests. Where it
         * has a control group counting its CPU, it is retired after the request that passed this;
         * elsewhere RLIMIT_CPU, which the kernel enforces in the middle of whatever request runs.
         */
        @WithDefault("3600")
        long cpuSeconds();

        /**
         * CPUs each process may use at most, where it has a control group with a CPU controller
         * (a CFS quota), so that one process cannot starve the others on its worker; 0 for no cap.
         */
        @WithDefault("1.0")
        double cpuCores();

        /** RLIMIT_NPROC of each process (tasks of its uid), enforced where it has a uid of its own. */
        @WithDefault("256")
        int maxProcesses();

        /** RLIMIT_FSIZE: the largest file user code may write. */
        @WithDefault("64M")
        MemorySize maxFileSize();

        /** RLIMIT_NOFILE. */
        @WithDefault("1024")
        int openFiles();

        /**
         * Size of each of a process's scratch file systems, where the sandbox gives it its own
         * (bubblewrap): its working directory, /tmp and /dev/shm, tmpfs mounts counted in its memory
         * limit and emptied after every request.
         */
        @WithDefault("64M")
        MemorySize tmpSize();

        /** The PATH user code sees. */
        @WithDefault("/usr/local/bin:/usr/bin:/bin")
        String path();

        /** Worker environment variables passed to user code; nothing else is. */
        @WithDefault("LANG,LC_ALL,LC_CTYPE,TZ")
        List<String> passEnv();
    }
}
