package io.execfarm.worker.messaging;

import io.execfarm.contracts.Topics;
import io.execfarm.worker.config.WorkerConfig;
import io.execfarm.worker.config.WorkerId;
import io.execfarm.worker.intake.AdmissionGate;
import io.execfarm.worker.intake.Intakes;
import io.execfarm.worker.messaging.RequestRecord.Disposition;
import io.execfarm.worker.pool.PoolStats;
import io.execfarm.worker.pool.Pools;
import io.execfarm.worker.threads.DaemonThreads;
import io.execfarm.worker.tracing.RequestTracing;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.common.annotation.Identifier;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.interceptor.Interceptor;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.jboss.logging.Logger;

/**
 * Takes requests that name no session from {@code execfarm.requests.<runtime>.shared} through a
 * Kafka share group, one share consumer per pool process, each holding one request at a time: a
 * consumer polls only with a permit of the runtime's {@link AdmissionGate}, which the consumer group's
 * intake shares, so the worker never holds more requests than its pool can run, and any consumer
 * takes any record, so throughput grows with consumers past the partition count and a new worker
 * takes requests as soon as its consumers join (once its pool has a warm process). A consumer that
 * polls gives its permit up when the consumer group's intake waits for one: that intake's records
 * can run nowhere else, a share group's can.
 *
 * <p>One share consumer per process, not one per runtime: in explicit acknowledgement mode every
 * record a poll returned must be acknowledged before the next poll, so a consumer holding several
 * running requests would have to renew them all at every poll it makes for a new one (a renewed
 * record comes back from the following poll, to be renewed again).
 *
 * <p>A record is accepted once its result is published, rejected once it was dead-lettered, and
 * released at shutdown when its request could not finish within the grace. While it runs, its
 * acquisition lock is renewed three times a lock; a worker killed hard loses its locks, and the
 * records go to other workers, whose Redis claims and ledger keep each request run and answered
 * once ({@link RequestHandler}). The broker counts the deliveries of each record, and that count is
 * the request's attempt number.
 *
 * <p>Kafka's {@link KafkaShareConsumer} is used directly rather than through the SmallRye
 * connector's experimental share-group support (4.34): the connector renews a lock by polling,
 * which acquires further records the busy consumer then holds until their locks lapse (counting a
 * delivery each time, and a record delivered too often is archived unanswered); it renews only when
 * a processing timeout is set; and it has no dead-letter strategy for share groups. Here a renewal
 * is committed before the consumer polls again, and the poll returns only the renewed record.
 */
@ApplicationScoped
public class SharedRequestConsumer {

    private static final Logger LOG = Logger.getLogger(SharedRequestConsumer.class);
    /** Consumer settings a share consumer refuses (Kafka's ShareConsumerConfig). */
    private static final List<String> NOT_FOR_SHARE_GROUPS = List.of(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
            ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, ConsumerConfig.GROUP_INSTANCE_ID_CONFIG,
            ConsumerConfig.ISOLATION_LEVEL_CONFIG, ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG,
            ConsumerConfig.INTERCEPTOR_CLASSES_CONFIG, ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG,
            ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, ConsumerConfig.GROUP_PROTOCOL_CONFIG,
            ConsumerConfig.GROUP_REMOTE_ASSIGNOR_CONFIG);
    /** How long an idle consumer waits for a record before it checks for shutdown. */
    private static final Duration POLL_TIMEOUT = Duration.ofMillis(500);
    /** How often a consumer whose request runs checks for its end, and for shutdown. */
    private static final Duration RUN_CHECK = Duration.ofMillis(50);
    private static final Duration WARM_CHECK = Duration.ofMillis(50);
    /** A broker that cannot be reached is tried again after this. */
    private static final Duration BROKER_BACKOFF = Duration.ofSeconds(1);
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(10);

    private final RequestHandler handler;
    private final DeadLetters deadLetters;
    private final RequestTracing tracing;
    private final Pools pools;
    private final Intakes intakes;
    private final WorkerConfig.SharedRequests settings;
    private final Map<String, Object> kafka;
    private final String workerId;
    private final List<Loop> loops = new ArrayList<>();
    private volatile boolean shuttingDown;

    /** @param kafka the application's {@code kafka.*} settings, as the connector reads them (TLS, SASL...) */
    public SharedRequestConsumer(RequestHandler handler, DeadLetters deadLetters, RequestTracing tracing, Pools pools,
            Intakes intakes, WorkerConfig config, WorkerId workerId,
            @Identifier("default-kafka-broker") Map<String, Object> kafka) {
        this.intakes = intakes;
        this.handler = handler;
        this.deadLetters = deadLetters;
        this.tracing = tracing;
        this.pools = pools;
        this.settings = config.sharedRequests();
        this.kafka = kafka;
        this.workerId = workerId.value();
    }

    /** Share consumers whose loop ended while the worker runs, with why: the worker takes fewer requests than it can run. */
    public Map<String, String> deadConsumers() {
        Map<String, String> dead = new TreeMap<>();
        for (Loop loop : loops) {
            String cause = loop.deathCause;
            if (cause != null) {
                dead.put(loop.consumerThread.getName(), cause);
            }
        }
        return dead;
    }

    /** The share group of one runtime's shared request topic. */
    public static String group(String runtime) {
        return "execfarm-shared-" + runtime;
    }

    void start(@Observes StartupEvent event) {
        if (!settings.enabled()) {
            return;
        }
        pools.stats().forEach((runtime, pool) -> {
            AdmissionGate gate = intakes.gate(runtime);
            List<Loop> ofRuntime = new ArrayList<>();
            for (int n = 1; n <= pool.size(); n++) {
                ofRuntime.add(new Loop(runtime, n, gate));
            }
            // One permit per waiter: waking every polling consumer would restart all their fetches.
            gate.onWaiter(() -> {
                for (Loop loop : ofRuntime) {
                    if (loop.yieldPermit()) {
                        return;
                    }
                }
            });
            loops.addAll(ofRuntime);
            ofRuntime.forEach(loop -> loop.consumerThread.start());
        });
    }

    /** Before the pools close: requests still running get the grace to finish. */
    void stop(@Observes @Priority(Interceptor.Priority.PLATFORM_BEFORE) ShutdownEvent event) throws InterruptedException {
        shuttingDown = true;
        loops.forEach(Loop::stop);
        long deadline = System.nanoTime() + settings.shutdownGrace().plus(CLOSE_TIMEOUT).toNanos();
        for (Loop loop : loops) {
            loop.consumerThread.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
        }
    }

    private Map<String, Object> consumerSettings(String runtime, int n) {
        Map<String, Object> settings = new HashMap<>(kafka);
        settings.keySet().retainAll(ConsumerConfig.configNames());
        NOT_FOR_SHARE_GROUPS.forEach(settings::remove);
        settings.put(ConsumerConfig.GROUP_ID_CONFIG, group(runtime));
        settings.put(ConsumerConfig.CLIENT_ID_CONFIG, "execfarm-shared-" + runtime + "-" + workerId + "-" + n);
        settings.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        settings.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        settings.put(ConsumerConfig.SHARE_ACKNOWLEDGEMENT_MODE_CONFIG, "explicit");
        // One record per poll and no prefetching: a record waits in Kafka, for any consumer, until
        // this one can run it.
        settings.put(ConsumerConfig.SHARE_ACQUIRE_MODE_CONFIG, "record_limit");
        settings.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 1);
        return settings;
    }

    /** One share consumer and the thread its requests run on; the consumer is used only from its own thread. */
    private final class Loop {

        private final String runtime;
        private final int n;
        private final AdmissionGate gate;
        private final Thread consumerThread;
        private final ExecutorService runner;
        /** Replaced when a lock was lost; read by {@link #yieldPermit} from other threads. */
        private volatile KafkaShareConsumer<String, byte[]> consumer;
        private volatile String deathCause;
        /** Read between polls and while a request runs; an idle consumer sees it within a poll timeout. */
        private volatile boolean stopping;
        /** Polling for a request, with a permit it would give up. */
        private volatile boolean pollingForRequest;
        private boolean holdsPermit;

        Loop(String runtime, int n, AdmissionGate gate) {
            this.runtime = runtime;
            this.n = n;
            this.gate = gate;
            this.runner = Executors.newSingleThreadExecutor(
                    DaemonThreads.named("execfarm-shared-" + runtime + "-" + n + "-run"));
            this.consumerThread = DaemonThreads.named("execfarm-shared-" + runtime + "-" + n).newThread(this::run);
        }

        void stop() {
            stopping = true;
        }

        /**
         * Closes the consumer, which releases whatever it still holds for other workers; an
         * interrupted thread closes it too, rather than fail the close at its first wait.
         */
        private void closeInterruptible() {
            boolean interrupted = Thread.interrupted();
            try {
                consumer.close(CLOSE_TIMEOUT);
            } catch (KafkaException e) {
                LOG.warnf("closing share consumer %d of %s: %s", n, runtime, e.toString());
            } finally {
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
        }

        /** Neither stopped nor interrupted (an interrupted thread's sleeps and polls would return at once, for ever). */
        private boolean running() {
            return !stopping && !Thread.currentThread().isInterrupted();
        }

        /** Wakes a poll that holds a permit the consumer group's intake waits for; false when not polling. */
        boolean yieldPermit() {
            if (pollingForRequest) {
                consumer.wakeup();
                return true;
            }
            return false;
        }

        private void run() {
            try {
                consume();
            } catch (RuntimeException | Error e) {
                deathCause = e.toString();
                LOG.errorf(e, "%s: share consumer %d stopped", runtime, n);
                throw e;
            } finally {
                if (!shuttingDown && deathCause == null) {
                    deathCause = "stopped while the worker runs (interrupted)";
                    LOG.errorf("%s: share consumer %d %s", runtime, n, deathCause);
                }
            }
        }

        private void consume() {
            awaitWarmProcess();
            if (!running()) {
                return;
            }
            open();
            LOG.infof("%s: share consumer %d polling %s", runtime, n, Topics.sharedRequests(runtime));
            try {
                while (running()) {
                    pollAndRun();
                }
            } finally {
                releasePermit();
                runner.shutdownNow();
                closeInterruptible();
            }
        }

        /**
         * A consumer that joined before its pool has a warm process would hold its first request
         * through the warm-up while warm workers wait for work: it joins once a process is warm.
         */
        private void awaitWarmProcess() {
            while (running()) {
                PoolStats pool = pools.stats().get(runtime);
                if (pool.idle() + pool.busy() > 0) {
                    return;
                }
                sleep(WARM_CHECK);
            }
        }

        private void open() {
            consumer = new KafkaShareConsumer<>(consumerSettings(runtime, n));
            consumer.setAcknowledgementCommitCallback((offsets, failure) -> {
                if (failure != null) {
                    LOG.warnf("the broker did not take acknowledgements of %s: %s", offsets, failure.toString());
                }
            });
            consumer.subscribe(List.of(Topics.sharedRequests(runtime)));
        }

        private void pollAndRun() {
            try {
                if (!holdsPermit && !(holdsPermit = gate.tryAcquire(POLL_TIMEOUT))) {
                    return;
                }
                ConsumerRecords<String, byte[]> records;
                pollingForRequest = true;
                try {
                    records = consumer.poll(POLL_TIMEOUT);
                } catch (WakeupException wanted) {
                    releasePermit();
                    return;
                } finally {
                    pollingForRequest = false;
                }
                if (records.isEmpty() && gate.hasWaiters()) {
                    releasePermit();
                }
                for (ConsumerRecord<String, byte[]> record : records) {
                    if (!holdsPermit && !(holdsPermit = gate.tryAcquire())) {
                        // Not expected with one record per poll; left to another consumer all the same.
                        acknowledge(record, AcknowledgeType.RELEASE);
                        continue;
                    }
                    try {
                        run(record);
                    } finally {
                        releasePermit();
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (KafkaException e) {
                LOG.warnf("share consumer of %s: %s; trying again in %s", Topics.sharedRequests(runtime), e.toString(),
                        BROKER_BACKOFF);
                sleep(BROKER_BACKOFF);
            }
        }

        private void releasePermit() {
            if (holdsPermit) {
                holdsPermit = false;
                gate.release();
            }
        }

        /** Runs one request while renewing its record's lock, then settles the record. */
        private void run(ConsumerRecord<String, byte[]> record) {
            Future<Disposition> running = runner.submit(() -> handler.handle(runtime, requestRecord(record)));
            Duration renewEvery = settings.lockDuration().dividedBy(3);
            long nextRenewal = System.nanoTime() + renewEvery.toNanos();
            long graceEnd = Long.MAX_VALUE;
            ConsumerRecord<String, byte[]> held = record;
            while (true) {
                try {
                    settle(held, running.get(RUN_CHECK.toMillis(), TimeUnit.MILLISECONDS));
                    return;
                } catch (TimeoutException stillRunning) {
                    if (stopping && graceEnd == Long.MAX_VALUE) {
                        graceEnd = System.nanoTime() + settings.shutdownGrace().toNanos();
                    }
                    if (System.nanoTime() > graceEnd) {
                        LOG.infof("releasing %s offset %d, still running at shutdown, to other workers", record.topic(),
                                record.offset());
                        acknowledge(held, AcknowledgeType.RELEASE);
                        return;
                    }
                    if (System.nanoTime() >= nextRenewal) {
                        Optional<ConsumerRecord<String, byte[]>> renewed = renew(held);
                        if (renewed.isEmpty()) {
                            awaitQuietly(running);
                            // A consumer that lost a record cannot acknowledge it, nor poll past it: a
                            // new one starts clean.
                            consumer.close(CLOSE_TIMEOUT);
                            open();
                            return;
                        }
                        held = renewed.get();
                        nextRenewal = System.nanoTime() + renewEvery.toNanos();
                    }
                } catch (ExecutionException e) {
                    LOG.errorf(e.getCause(), "running %s offset %d failed; releasing it to be delivered again",
                            record.topic(), record.offset());
                    acknowledge(held, AcknowledgeType.RELEASE);
                    return;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    acknowledge(held, AcknowledgeType.RELEASE);
                    return;
                }
            }
        }

        private RequestRecord requestRecord(ConsumerRecord<String, byte[]> record) {
            return new RequestRecord(record.topic(), record.partition(), record.offset(), record.key(), record.value(),
                    Instant.ofEpochMilli(record.timestamp()), tracing.sender(record.headers()),
                    record.deliveryCount().map(count -> OptionalInt.of(count)).orElse(OptionalInt.empty()));
        }

        /**
         * Renews the record's lock and commits the renewal before polling, so the poll returns the
         * renewed record alone and acquires nothing new. Empty when the lock was lost (the broker was
         * away for longer than a lock): the record may go to another worker, whose delivery waits
         * for this one's claim in Redis and is then answered from the ledger.
         */
        private Optional<ConsumerRecord<String, byte[]>> renew(ConsumerRecord<String, byte[]> held) {
            try {
                consumer.acknowledge(held, AcknowledgeType.RENEW);
                Optional<KafkaException> failed = pastAStrayWakeup(consumer::commitSync).values().stream()
                        .flatMap(Optional::stream).findFirst();
                if (failed.isPresent()) {
                    throw failed.get();
                }
                ConsumerRecord<String, byte[]> renewed = null;
                for (ConsumerRecord<String, byte[]> back : pastAStrayWakeup(() -> consumer.poll(Duration.ZERO))) {
                    if (back.partition() == held.partition() && back.offset() == held.offset()) {
                        renewed = back;
                    } else {
                        consumer.acknowledge(back, AcknowledgeType.RELEASE);
                    }
                }
                if (renewed == null) {
                    throw new IllegalStateException("the renewed record did not come back");
                }
                return Optional.of(renewed);
            } catch (KafkaException | IllegalStateException e) {
                LOG.warnf("lost the lock on %s offset %d (%s); its request finishes here, and a delivery elsewhere "
                        + "is answered from Redis", held.topic(), held.offset(), e.toString());
                return Optional.empty();
            }
        }

        /**
         * A wakeup meant for the poll that returned the running record ({@link #yieldPermit} raced
         * with its return) is pending still, and would fail the next blocking call once.
         */
        private <T> T pastAStrayWakeup(Supplier<T> call) {
            try {
                return call.get();
            } catch (WakeupException stray) {
                return call.get();
            }
        }

        private void settle(ConsumerRecord<String, byte[]> record, Disposition disposition) {
            if (disposition instanceof Disposition.DeadLettered dead) {
                try {
                    deadLetters.send(record, dead.reason()).await().atMost(DeadLetters.WRITE_TIMEOUT);
                } catch (RuntimeException e) {
                    LOG.errorf("could not write %s offset %d to the dead-letter topic (%s); releasing it to be "
                            + "delivered again", record.topic(), record.offset(), e.toString());
                    acknowledge(record, AcknowledgeType.RELEASE);
                    return;
                }
                acknowledge(record, AcknowledgeType.REJECT);
                return;
            }
            acknowledge(record, AcknowledgeType.ACCEPT);
        }

        /**
         * Acknowledges the record; the acknowledgement goes to the broker with this consumer's next
         * poll (or its close), which follows at once, rather than in a round trip of its own. One the
         * broker does not take leaves the record to its lock: it is delivered again, and that
         * delivery is answered from Redis without running again.
         */
        private void acknowledge(ConsumerRecord<String, byte[]> record, AcknowledgeType type) {
            try {
                consumer.acknowledge(record, type);
            } catch (IllegalStateException e) {
                LOG.warnf("could not %s %s offset %d: %s", type, record.topic(), record.offset(), e.toString());
            }
        }

        private void awaitQuietly(Future<Disposition> running) {
            try {
                running.get();
            } catch (ExecutionException e) {
                LOG.errorf(e.getCause(), "running a request of %s failed", Topics.sharedRequests(runtime));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static void sleep(Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
