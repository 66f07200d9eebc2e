package io.execfarm.client;

import io.execfarm.contracts.Cancel;
import io.execfarm.contracts.CloseSession;
import io.execfarm.contracts.ExecutionEvent;
import io.execfarm.contracts.ExecutionRequest;
import io.execfarm.contracts.OpenSession;
import io.execfarm.contracts.Result;
import io.execfarm.contracts.SessionCommand;
import io.execfarm.contracts.Topics;
import io.execfarm.contracts.WireCodec;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Runs code on the farm over Kafka: sends requests, follows each execution's events in order and
 * without duplicates, cancels, gives up on an execution whose result does not come, and finds a
 * result whose stream was missed. One producer, one reply consumer and three threads per client
 * (reply consumer, deadlines, delivery) however many executions it follows; thread-safe.
 *
 * <pre>{@code
 * try (FarmClient farm = FarmClient.connect(ClientSettings.tenant("acme", kafkaProperties))) {
 *     Execution run = farm.run(Job.of("julia", "println(6 * 7)"));
 *     System.out.print(run.stdout());
 * }
 * }</pre>
 */
public final class FarmClient implements AutoCloseable {

    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(2);

    private final ClientSettings settings;
    private final WireCodec codec = new WireCodec();
    private final KafkaProducer<String, byte[]> producer;
    private final ReplyReader replies;
    private final Thread replyThread;
    private final ConcurrentMap<String, Pending> waiting = new ConcurrentHashMap<>();
    private final Backlog backlog;
    private final ScheduledThreadPoolExecutor deadlines;
    private final ExecutorService ownDelivery;
    private final java.util.concurrent.Executor delivery;
    private volatile boolean closed;

    private FarmClient(ClientSettings settings) {
        this.settings = settings;
        this.backlog = new Backlog(settings.maxBufferedEvents());
        createReplyTopic(settings);
        producer = new KafkaProducer<>(producerSettings(settings.kafka()), new StringSerializer(),
                new ByteArraySerializer());
        KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(readerSettings(settings.kafka()),
                new StringDeserializer(), new ByteArrayDeserializer());
        replies = new ReplyReader(consumer, codec, waiting, backlog, settings.duplicates());
        try {
            replies.startAtEnd(settings.replyTopic(), START_TIMEOUT);
        } catch (RuntimeException e) {
            consumer.close(org.apache.kafka.clients.consumer.CloseOptions.timeout(CLOSE_TIMEOUT));
            producer.close(CLOSE_TIMEOUT);
            throw e;
        }
        replyThread = daemon(replies, "execfarm-client-replies");
        deadlines = new ScheduledThreadPoolExecutor(1, task -> daemon(task, "execfarm-client-deadlines"));
        deadlines.setRemoveOnCancelPolicy(true);
        ownDelivery = settings.delivery() == null
                ? Executors.newSingleThreadExecutor(task -> daemon(task, "execfarm-client-delivery")) : null;
        delivery = settings.delivery() == null ? ownDelivery : settings.delivery();
        replyThread.start();
    }

    /** A client with its producer and its reply consumer ready: what it sends from now on is answered to it. */
    public static FarmClient connect(ClientSettings settings) {
        return new FarmClient(settings);
    }

    /** Runs the job and waits for its result, however it ended ({@code ok}, {@code error}, {@code timeout}…). */
    public Execution run(Job job) throws InterruptedException {
        return await(execute(job));
    }

    /**
     * As {@link #run(Job)}, handing each event to {@code each} as it comes (on the client's delivery
     * thread, one at a time, in order): output printed while the code still runs.
     */
    public Execution run(Job job, Consumer<ExecutionEvent> each) throws InterruptedException {
        long sentNanos = System.nanoTime();
        Following following = new Following(job.id(), sentNanos, each);
        submit(job).subscribe(following);
        return await(following.done());
    }

    private static Execution await(CompletableFuture<Execution> execution) throws InterruptedException {
        try {
            return execution.get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException failure ? failure : new IllegalStateException(e.getCause());
        }
    }

    /** Sends the job; the future completes with all its events when its result comes. */
    public CompletableFuture<Execution> execute(Job job) {
        return execute(job, null);
    }

    /**
     * As {@link #execute(Job)}, to a topic and partition the caller chose, for tools that spread
     * requests over partitions themselves; null: where the route sends it.
     */
    public CompletableFuture<Execution> execute(Job job, Placement placement) {
        CollectedExecution collected = new CollectedExecution(job.id(), System.nanoTime(), delivery);
        send(job, placement, collected);
        return collected.future();
    }

    /** Sends the job; its events arrive on the returned publisher as they come. */
    public Submission submit(Job job) {
        Submission submission = new Submission(job.id(), delivery, backlog, this::cancel);
        send(job, null, submission.sink());
        return submission;
    }

    /** Asks the farm to stop execution {@code requestId}: its result says {@code cancelled}, unless it had ended. */
    public void cancel(String requestId) {
        String topic = settings.route() == ClientSettings.Route.INGRESS ? Topics.ingress(settings.tenant())
                : Topics.CONTROL;
        producer.send(new ProducerRecord<>(topic, requestId, codec.encode(new Cancel(requestId))));
    }

    /**
     * The events and result of an execution this client (or another of the same tenant) sent about
     * {@code sentAround}, read back from the reply topic: for a result whose stream was missed.
     * Empty when no result is there (not answered yet, or longer ago than the topic keeps).
     */
    public Optional<Execution> find(String requestId, Instant sentAround) {
        try (KafkaConsumer<String, byte[]> reader = new KafkaConsumer<>(readerSettings(settings.kafka()),
                new StringDeserializer(), new ByteArrayDeserializer())) {
            return new ReplyTopicScan(reader, codec, START_TIMEOUT).find(settings.replyTopic(), requestId, sentAround);
        }
    }

    /** The topic this client reads its events on. */
    public String replyTopic() {
        return settings.replyTopic();
    }

    /** Executions sent and not yet answered. */
    public int inFlight() {
        return waiting.size();
    }

    /** Events held for subscribers that have not taken them yet. */
    public long buffered() {
        return backlog.held();
    }

    /**
     * Opens a session of the tenant's on {@code runtime}, ending after the farm's idle timeout, and
     * returns its id once the farm confirms it. Run in it with {@link Job#inSession}.
     *
     * @throws RejectedException when the farm refuses it (no worker runs the runtime, say)
     */
    public String openSession(String runtime) throws InterruptedException {
        return openSession(runtime, null);
    }

    /** As {@link #openSession(String)}, ending after {@code idleTimeout} without a request (at most the farm's). */
    public String openSession(String runtime, Duration idleTimeout) throws InterruptedException {
        String session = UUID.randomUUID().toString();
        command(new OpenSession(UUID.randomUUID().toString(), session, runtime,
                idleTimeout == null ? null : idleTimeout.toMillis(), settings.replyTopic()));
        return session;
    }

    /**
     * Ends one of the tenant's sessions once the requests sent to it before have been taken: its
     * state, history and files go.
     *
     * @throws RejectedException {@code SessionNotFound} when it does not exist (or is another tenant's)
     */
    public void closeSession(String session) throws InterruptedException {
        command(new CloseSession(UUID.randomUUID().toString(), session, settings.replyTopic()));
    }

    /** Sends a session command on the tenant's ingress topic, keyed by its session, and waits for its answer. */
    private void command(SessionCommand command) throws InterruptedException {
        if (settings.route() != ClientSettings.Route.INGRESS) {
            throw new UnsupportedOperationException("sessions are opened and closed through a tenant's ingress topic "
                    + "(ClientSettings.tenant) or the dispatcher's HTTP API; this client sends straight to the "
                    + "runtimes");
        }
        CollectedExecution answer = new CollectedExecution(command.id(), System.nanoTime(), delivery);
        dispatch(command.id(), new ProducerRecord<>(Topics.ingress(settings.tenant()), command.session(),
                codec.encode(command)), settings.queueTimeout().plus(settings.answerGrace()), false, answer);
        Result result = await(answer.future()).result();
        if (result.status() != Result.Status.OK) {
            throw new RejectedException(result);
        }
    }

    private void send(Job job, Placement placement, ExecutionSink sink) {
        Instant now = Instant.now();
        boolean direct = settings.route() == ClientSettings.Route.DIRECT;
        ExecutionRequest request = job.toRequest(settings.tenant(), settings.replyTopic(), direct ? now : null,
                direct ? now.plus(settings.queueTimeout()) : null);
        String topic = placement != null ? placement.topic() : topicFor(request);
        Integer partition = placement != null ? placement.partition() : null;
        dispatch(job.id(), new ProducerRecord<>(topic, partition, request.kafkaKey(), codec.encode(request)),
                settings.queueTimeout().plus(job.timeout()).plus(settings.answerGrace()), true, sink);
    }

    /**
     * Waits for answers to {@code id}, then sends the record; no answer within {@code patience} fails
     * it with {@link ExecutionTimeoutException} (and cancels it, when it is an execution).
     */
    private void dispatch(String id, ProducerRecord<String, byte[]> record, Duration patience,
            boolean cancelOnTimeout, ExecutionSink sink) {
        if (closed) {
            throw new IllegalStateException("the client is closed");
        }
        if (replies.failure() != null) {
            throw new IllegalStateException("the client's reply consumer stopped; connect a new client",
                    replies.failure());
        }
        Pending pending = new Pending(id, sink);
        if (waiting.putIfAbsent(id, pending) != null) {
            throw new IllegalStateException(id + " is in flight already");
        }
        pending.deadline(deadlines.schedule(() -> timeOut(pending, patience, cancelOnTimeout), patience.toMillis(),
                TimeUnit.MILLISECONDS));
        try {
            producer.send(record, (metadata, failure) -> {
                if (failure != null) {
                    fail(pending, failure);
                }
            });
        } catch (RuntimeException e) {
            fail(pending, e);
        }
    }

    private void fail(Pending pending, Throwable failure) {
        if (waiting.remove(pending.requestId(), pending)) {
            pending.ended();
            pending.sink().fail(failure);
        }
    }

    private String topicFor(ExecutionRequest request) {
        if (settings.route() == ClientSettings.Route.INGRESS) {
            return Topics.ingress(settings.tenant());
        }
        return request.session() == null && settings.sharedSessionless()
                ? Topics.sharedRequests(request.runtime()) : Topics.requests(request.runtime());
    }

    private void timeOut(Pending pending, Duration waited, boolean cancelExecution) {
        if (waiting.remove(pending.requestId(), pending)) {
            if (cancelExecution) {
                cancel(pending.requestId());
            }
            pending.sink().fail(new ExecutionTimeoutException(pending.requestId(), waited));
        }
    }

    /** Made when absent; a tenant may make topics under its prefix, and its own reply topic exists already. */
    private static void createReplyTopic(ClientSettings settings) {
        try (Admin admin = Admin.create(settings.kafka())) {
            admin.createTopics(List.of(new NewTopic(settings.replyTopic(), Optional.empty(), Optional.empty())))
                    .all().get(START_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw new IllegalStateException("could not create reply topic " + settings.replyTopic(), e.getCause());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted creating reply topic " + settings.replyTopic(), e);
        } catch (TimeoutException e) {
            throw new IllegalStateException("could not create reply topic " + settings.replyTopic() + " within "
                    + START_TIMEOUT, e);
        }
    }

    /**
     * Every replica acknowledges a request before it counts as sent, and it is sent at once; records
     * up to the farm's 8 MiB (a request with its files inline). The caller's settings win.
     */
    private static Map<String, Object> producerSettings(Map<String, Object> kafka) {
        Map<String, Object> settings = new HashMap<>();
        settings.put(ProducerConfig.ACKS_CONFIG, "all");
        settings.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        settings.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 8 * 1024 * 1024);
        settings.putAll(kafka);
        settings.keySet().retainAll(ProducerConfig.configNames());
        return settings;
    }

    /** A consumer of no group, assigned its partitions: nothing to join, nothing committed, no wait to fill a fetch. */
    private static Map<String, Object> readerSettings(Map<String, Object> kafka) {
        Map<String, Object> settings = new HashMap<>();
        settings.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 1);
        settings.putAll(kafka);
        settings.keySet().retainAll(ConsumerConfig.configNames());
        settings.remove(ConsumerConfig.GROUP_ID_CONFIG);
        settings.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        return settings;
    }

    private static Thread daemon(Runnable task, String name) {
        Thread thread = new Thread(task, name);
        thread.setDaemon(true);
        return thread;
    }

    /** Stops following: executions still waiting fail with {@link IllegalStateException}; the farm still runs them. */
    @Override
    public void close() {
        closed = true;
        replies.stop();
        try {
            replyThread.join(CLOSE_TIMEOUT.toMillis() * 2);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        deadlines.shutdownNow();
        IllegalStateException gone = new IllegalStateException("the client closed before the result came");
        waiting.values().forEach(pending -> fail(pending, gone));
        producer.close(CLOSE_TIMEOUT);
        if (ownDelivery != null) {
            ownDelivery.shutdown();
        }
    }
}
