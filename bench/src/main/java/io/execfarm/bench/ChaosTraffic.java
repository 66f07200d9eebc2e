package io.execfarm.bench;

import io.execfarm.accounts.KafkaLogin;
import io.execfarm.client.ClientSettings;
import io.execfarm.client.DuplicateResult;
import io.execfarm.client.Execution;
import io.execfarm.client.FarmClient;
import io.execfarm.client.Job;
import io.execfarm.contracts.Result;
import io.execfarm.farm.DispatcherClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The steady load of {@code ./farm chaos}: closed-loop clients on one Java client ({@code client/})
 * sending straight to the runtime topics. A third of them run a session each and check that its
 * state survived every request (a counter that must go up by one per successful request); the
 * others send stateless requests with output, and check it came whole, in order and once. A result
 * that arrives again as a record of its own (the client tells it apart) counts the request as
 * answered twice; one never answered within {@link #ANSWER_WITHIN} counts as lost.
 */
final class ChaosTraffic implements AutoCloseable {

    /** Longer than any fault lasts here: a request unanswered for this long is counted lost. */
    static final Duration ANSWER_WITHIN = Duration.ofMinutes(3);

    /** One request and every result that came back for it. */
    static final class Sent {
        final String id;
        final String session;
        final long sentNanos;
        final List<Result> results = new CopyOnWriteArrayList<>();
        volatile long answeredNanos;

        Sent(String id, String session, long sentNanos) {
            this.id = id;
            this.session = session;
            this.sentNanos = sentNanos;
        }

        long latencyMillis() {
            return TimeUnit.NANOSECONDS.toMillis(answeredNanos - sentNanos);
        }
    }

    /** A session whose state was found lost: when, and what the request saw. */
    record SessionLoss(String session, long atNanos, String seen) {
    }

    private final FarmClient client;
    private final DispatcherClient http;
    private final ConcurrentMap<String, Sent> sent = new ConcurrentHashMap<>();
    private final List<SessionLoss> sessionLosses = new CopyOnWriteArrayList<>();
    private final AtomicBoolean sending = new AtomicBoolean(true);
    private final List<Thread> clients = new ArrayList<>();
    private final AtomicLong garbled = new AtomicLong();

    /**
     * Requests run as {@code tenant}, the tenant of {@code http}'s key, which makes the sessions; the
     * client waits for a result as long as the run counts one lost, and a request may wait that long
     * for a worker (its {@code startBy}).
     */
    ChaosTraffic(KafkaLogin kafka, DispatcherClient http, String tenant) {
        this.http = http;
        client = FarmClient.connect(ClientSettings.direct(tenant, kafka.clientSettings()).withSharedSessionless(false)
                .withQueueTimeout(ANSWER_WITHIN).withAnswerGrace(Duration.ZERO).onDuplicateResult(this::answeredAgain));
    }

    /** Starts {@code count} clients; every third runs a session of its own. */
    void start(int count) throws Exception {
        for (int i = 0; i < count; i++) {
            String session = i % 3 == 0 ? http.createSession("python") : null;
            Thread client = new Thread(session == null ? this::stateless : () -> inSession(session), "chaos-client-" + i);
            client.setDaemon(true);
            clients.add(client);
        }
        clients.forEach(Thread::start);
    }

    /** Stops sending; requests already sent are still answered and counted. */
    void stopSending() throws InterruptedException {
        sending.set(false);
        for (Thread client : clients) {
            client.join(ANSWER_WITHIN.toMillis() + 10_000);
        }
    }

    /** Waits until every request sent has a result or {@code within} passed, then a little longer for duplicates. */
    void drain(Duration within) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        while (System.nanoTime() < deadline && sent.values().stream().anyMatch(s -> s.results.isEmpty())) {
            Thread.sleep(200);
        }
        Thread.sleep(5000);
    }

    Collection<Sent> sent() {
        return sent.values();
    }

    List<SessionLoss> sessionLosses() {
        return sessionLosses;
    }

    /** Stateless requests answered ok whose output was not what their code prints, once and in order. */
    long garbled() {
        return garbled.get();
    }

    private void stateless() {
        long n = 0;
        while (sending.get()) {
            n++;
            String code = "import time\nprint('chaos', " + n + ", flush=True)\ntime.sleep(0.05)\nprint('done')\n"
                    + n + " * 2";
            Execution execution = await(send(null, code));
            if (execution != null && execution.status() == Result.Status.OK
                    && !execution.stdout().equals("chaos " + n + "\ndone\n")) {
                garbled.incrementAndGet();
            }
        }
    }

    /**
     * Increments a counter in the session; it must equal the number of successful requests so far.
     * A session the farm lost (its record gone, or its state rebuilt short) is counted once and
     * the client carries on with a new one.
     */
    private void inSession(String initial) {
        String session = initial;
        long succeeded = 0;
        while (sending.get()) {
            Execution execution = await(send(session,
                    "counter = globals().get('counter', 0) + 1\nprint(counter)\ncounter"));
            if (execution == null) {
                continue;
            }
            Result result = execution.result();
            if (result.status() == Result.Status.OK) {
                long value = result.value() == null ? -1 : Long.parseLong(result.value());
                if (value != succeeded + 1) {
                    sessionLosses.add(new SessionLoss(session, System.nanoTime(),
                            "counter " + value + " after " + succeeded + " successful requests"));
                }
                succeeded = value;
            } else if (result.error() != null && "SessionNotFound".equals(result.error().type())) {
                sessionLosses.add(new SessionLoss(session, System.nanoTime(), result.error().message()));
                try {
                    session = http.createSession("python");
                    succeeded = 0;
                } catch (Exception e) {
                    return;
                }
            }
        }
    }

    private CompletableFuture<Execution> send(String session, String code) {
        Job job = Job.of("python", code).inSession(session);
        Sent record = new Sent(job.id(), session, System.nanoTime());
        sent.put(job.id(), record);
        return client.execute(job).whenComplete((execution, failure) -> {
            if (execution != null) {
                record.answeredNanos = execution.answeredNanos();
                record.results.add(execution.result());
            }
        });
    }

    private void answeredAgain(DuplicateResult duplicate) {
        Sent request = sent.get(duplicate.requestId());
        if (request != null) {
            request.results.add(duplicate.second());
        }
    }

    /** The execution, or null when no result came within {@link #ANSWER_WITHIN} (counted lost). */
    private static Execution await(CompletableFuture<Execution> execution) {
        try {
            return execution.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } catch (ExecutionException e) {
            return null;
        }
    }

    @Override
    public void close() {
        sending.set(false);
        client.close();
    }
}
