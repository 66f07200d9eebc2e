package io.execfarm.dispatcher.messaging;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.execfarm.contracts.Cancel;
import io.execfarm.contracts.CloseSession;
import io.execfarm.contracts.ExecutionRequest;
import io.execfarm.contracts.MalformedMessageException;
import io.execfarm.contracts.OpenSession;
import io.execfarm.contracts.RedisKeys;
import io.execfarm.contracts.Result;
import io.execfarm.contracts.SessionCommand;
import io.execfarm.contracts.SessionRecord;
import io.execfarm.contracts.Topics;
import io.execfarm.contracts.WireCodec;
import io.execfarm.contracts.WireNames;
import io.execfarm.dispatcher.config.DispatcherConfig;
import io.execfarm.dispatcher.events.ExecutionRecord;
import io.execfarm.dispatcher.events.ExecutionStore;
import io.execfarm.dispatcher.session.SessionStore;
import io.execfarm.dispatcher.tenancy.InFlight;
import io.execfarm.dispatcher.tenancy.RemovedTenants;
import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.context.Context;
import io.quarkus.redis.datasource.ReactiveRedisDataSource;
import io.smallrye.mutiny.Uni;
import io.smallrye.reactive.messaging.kafka.KafkaRecord;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/**
 * Runs Kafka clients' requests as their tenant. Each tenant writes one topic,
 * {@code execfarm.ingress.<tenant>}, which only it may write (KafkaTenants); this reads them all
 * and forwards each request to its runtime's topic with the tenant taken from the topic's name,
 * whatever the record says, and each cancel to the control topic only for an execution of that
 * tenant. Before forwarding, what HTTP checks: the reply topic must be the tenant's own (under
 * {@code execfarm.tenant.<tenant>.}), the id must not be another tenant's execution's, some worker
 * must have served the runtime, and the tenant must be under its in-flight limit. A refused request
 * is answered with a rejected result on the tenant's reply topic. What a tenant being removed left
 * in its ingress topic is dropped, so that its removal can delete its topics soon after. A record is acknowledged only
 * once its request is on its runtime's topic (or answered, or given up): a forwarder that dies
 * loses nothing, and one that forwards a request again costs nothing, since a worker runs an id
 * once.
 */
@ApplicationScoped
public class IngressForwarder {

    private static final Logger LOG = Logger.getLogger(IngressForwarder.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Who answers a request the forwarder refused, in the result's {@code workerId}. */
    static final String ANSWERED_BY = "dispatcher";
    private static final Duration FIRST_BACKOFF = Duration.ofMillis(200);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(5);
    /**
     * How long one record is tried: records are forwarded one at a time for every tenant, so one
     * that can never be answered (its tenant's reply topic deleted, say) must not hold up the rest.
     */
    private static final Duration GIVE_UP_AFTER = Duration.ofSeconds(30);

    private final WireCodec codec;
    private final FarmPublisher publisher;
    private final ExecutionStore store;
    private final InFlight inFlight;
    private final RemovedTenants removedTenants;
    private final LiveWorkers liveWorkers;
    private final ReactiveRedisDataSource redis;
    private final SessionStore sessions;
    private final DispatcherConfig config;
    private final MeterRegistry registry;

    public IngressForwarder(WireCodec codec, FarmPublisher publisher, ExecutionStore store, InFlight inFlight,
            RemovedTenants removedTenants, LiveWorkers liveWorkers, ReactiveRedisDataSource redis,
            SessionStore sessions, DispatcherConfig config, MeterRegistry registry) {
        this.codec = codec;
        this.publisher = publisher;
        this.store = store;
        this.inFlight = inFlight;
        this.removedTenants = removedTenants;
        this.liveWorkers = liveWorkers;
        this.redis = redis;
        this.sessions = sessions;
        this.config = config;
        this.registry = registry;
    }

    /**
     * Forwards one record, trying again while Kafka or Redis fail: the next record of the
     * partition waits, so a tenant's requests keep their order. After {@link #GIVE_UP_AFTER} the
     * record is given up, logged and counted ({@code outcome=failed}), and the next one goes on.
     */
    @Incoming("ingress")
    public Uni<Void> forward(KafkaRecord<String, byte[]> record) {
        String tenant = record.getTopic().substring(Topics.INGRESS_PREFIX.length());
        Uni<String> handled = Uni.createFrom().deferred(() -> !WireNames.isKafkaTenant(tenant)
                ? Uni.createFrom().item("dropped")
                : removedTenants.isRemoved(tenant).chain(removed -> removed ? Uni.createFrom().item("dropped-removed")
                        : handle(tenant, record.getPayload())));
        return handled
                .onFailure().invoke(failure -> LOG.warnf("forwarding a record of %s partition %d (key %s) failed, trying again: %s",
                        record.getTopic(), record.getPartition(), record.getKey(), failure.toString()))
                .onFailure().retry().withBackOff(FIRST_BACKOFF, MAX_BACKOFF).expireIn(GIVE_UP_AFTER.toMillis())
                .onFailure().recoverWithItem(failure -> {
                    LOG.errorf("gave up forwarding a record of %s partition %d (key %s) after %s: %s", record.getTopic(),
                            record.getPartition(), record.getKey(), GIVE_UP_AFTER, failure.toString());
                    return "failed";
                })
                .invoke(outcome -> registry.counter("execfarm.ingress.records", "outcome", outcome).increment())
                .chain(() -> Uni.createFrom().completionStage(record.ack()));
    }

    /** A cancel, a session command, or (anything else) a request. */
    private Uni<String> handle(String tenant, byte[] payload) {
        String type;
        try {
            type = JSON.readTree(payload).path("type").asText("");
        } catch (IOException e) {
            type = "";
        }
        return switch (type) {
            case Cancel.TYPE -> cancel(tenant, payload);
            case OpenSession.TYPE, CloseSession.TYPE -> sessionCommand(tenant, payload);
            default -> submit(tenant, payload);
        };
    }

    /**
     * Opens or closes one of the tenant's sessions and answers on its reply topic. Keyed by the
     * session like its requests, a command is taken in order with them: an open before the request
     * behind it, a close after the requests before it.
     */
    private Uni<String> sessionCommand(String tenant, byte[] payload) {
        SessionCommand command;
        try {
            command = codec.decodeSessionCommand(payload);
        } catch (MalformedMessageException e) {
            return refuseMalformed(tenant, e);
        }
        if (!command.replyTo().startsWith(Topics.tenantTopics(tenant))) {
            return refuseReplyTo(tenant, command.id(), command.replyTo());
        }
        return command instanceof OpenSession open ? openSession(tenant, open)
                : closeSession(tenant, (CloseSession) command);
    }

    private Uni<String> openSession(String tenant, OpenSession open) {
        DispatcherConfig.Sessions limits = config.sessions();
        Duration idle = limits.idleTimeout();
        if (open.idleTimeoutMs() != null) {
            if (open.idleTimeoutMs() > idle.toMillis()) {
                return refuse(tenant, open.replyTo(), open.id(), "MalformedRequest", "idleTimeoutMs must be at most "
                        + idle.toMillis() + ", this farm's idle timeout");
            }
            idle = Duration.ofMillis(open.idleTimeoutMs());
        }
        if (liveWorkers.availability(open.runtime()) == LiveWorkers.Availability.UNKNOWN) {
            return refuseNoWorkers(tenant, open.replyTo(), open.id(), open.runtime());
        }
        SessionRecord record = new SessionRecord(tenant, open.runtime(), Instant.now(), idle, limits.maxAge(),
                limits.maxHistory().asLongValue());
        return sessions.createUnlessTaken(open.session(), record).chain(made -> made
                ? publisher.answer(open.replyTo(), done(open)).replaceWith("session-opened")
                : refuse(tenant, open.replyTo(), open.id(), "SessionIdInUse", "another session has the id "
                        + open.session() + "; name a session with an id no other client can choose, such as a "
                        + "random UUID"));
    }

    /** Another tenant's session is answered as one that does not exist, as HTTP answers it 404. */
    private Uni<String> closeSession(String tenant, CloseSession close) {
        return sessions.find(close.session()).chain(session -> {
            if (session == null || !session.record().tenant().equals(tenant)) {
                return refuse(tenant, close.replyTo(), close.id(), "SessionNotFound", "session " + close.session()
                        + " does not exist: it was never opened, it was closed, or it ended");
            }
            return sessions.delete(close.session()).chain(() -> publisher.answer(close.replyTo(), done(close)))
                    .replaceWith("session-closed");
        });
    }

    /** A command carried out: {@code ok}, its value the session's id. */
    private static Result done(SessionCommand command) {
        return new Result(command.id(), Result.Status.OK, command.session(), null, false, Result.Timings.NONE,
                ANSWERED_BY, 1);
    }

    private Uni<String> submit(String tenant, byte[] payload) {
        ExecutionRequest sent;
        try {
            sent = codec.decodeRequest(payload);
        } catch (MalformedMessageException e) {
            return refuseMalformed(tenant, e);
        }
        String id = sent.id();
        if (!sent.replyTo().startsWith(Topics.tenantTopics(tenant))) {
            return refuseReplyTo(tenant, id, sent.replyTo());
        }
        if (liveWorkers.availability(sent.runtime()) == LiveWorkers.Availability.UNKNOWN) {
            return refuseNoWorkers(tenant, sent.replyTo(), id, sent.runtime());
        }
        Instant now = Instant.now();
        Instant startBy = now.plus(config.queueTimeout());
        ExecutionRequest request = new ExecutionRequest(id, sent.runtime(), sent.code(), sent.session(), tenant,
                sent.timeoutMs(), sent.replyTo(), sent.limits(), now, startBy, sent.files(), sent.collect());
        ExecutionRecord record = new ExecutionRecord(id, tenant, request.runtime(), request.session(), request.timeoutMs(),
                now, null);
        return store.createForTenant(record).chain(ours -> {
            if (!ours) {
                return refuse(tenant, request.replyTo(), id, "IdInUse", "another execution has the id " + id
                        + "; give each request an id no other client can choose, such as a random UUID");
            }
            return inFlight.admit(tenant, id, startBy.plusMillis(request.timeoutMs())).chain(admitted -> admitted
                    ? publisher.submit(request, Context.current()).replaceWith("forwarded")
                            .onFailure(failure -> !FarmPublisher.mayHaveReachedKafka(failure))
                            .call(() -> inFlight.release(tenant, id))
                    : refuse(tenant, request.replyTo(), id, "TooManyInFlight", "tenant " + tenant + " has "
                            + inFlight.limit(tenant) + " executions in flight, its limit; send it again when one finishes"));
        });
    }

    /** A reply topic outside the tenant's prefix: answered on the tenant's own. */
    private Uni<String> refuseReplyTo(String tenant, String id, String replyTo) {
        return refuse(tenant, null, id, "ReplyToNotYours", "replyTo " + replyTo + " is not a topic of tenant " + tenant
                + "; name one under " + Topics.tenantTopics(tenant) + ", such as " + Topics.tenantReplies(tenant));
    }

    private Uni<String> refuseNoWorkers(String tenant, String replyTo, String id, String runtime) {
        return refuse(tenant, replyTo, id, "NoLiveWorkers", "no live worker runs '" + runtime
                + "'; runtimes with live workers: " + liveWorkers.runtimes());
    }

    /** A record the contract refuses is answered where it names an id to answer, else dropped and logged. */
    private Uni<String> refuseMalformed(String tenant, MalformedMessageException e) {
        if (e.requestId().isEmpty()) {
            LOG.infof("tenant %s sent a record that names no id: %s", tenant, e.getMessage());
            return Uni.createFrom().item("dropped");
        }
        return refuse(tenant, e.replyTo().orElse(null), e.requestId().get(), "MalformedRequest", e.getMessage());
    }

    /** Answers a refused request on its reply topic where that is the tenant's, else on the tenant's own. */
    private Uni<String> refuse(String tenant, String replyTo, String id, String errorType, String message) {
        String topic = replyTo != null && replyTo.startsWith(Topics.tenantTopics(tenant)) ? replyTo : Topics.tenantReplies(tenant);
        LOG.debugf("refused %s of tenant %s (%s): %s", id, tenant, errorType, message);
        return publisher.answer(topic, Result.rejected(id, ANSWERED_BY, errorType, message))
                .replaceWith("refused-" + errorType);
    }

    /** Cancels the tenant's own execution; a cancel of anything else is dropped, as HTTP answers it 404. */
    private Uni<String> cancel(String tenant, byte[] payload) {
        Cancel cancel;
        try {
            cancel = (Cancel) codec.decodeControl(payload);
        } catch (MalformedMessageException e) {
            LOG.infof("tenant %s sent an unreadable cancel: %s", tenant, e.getMessage());
            return Uni.createFrom().item("dropped");
        }
        String id = cancel.requestId();
        return store.find(id).chain(record -> {
            if (record == null || !record.tenant().equals(tenant)) {
                LOG.infof("tenant %s asked to cancel %s, which is not its execution", tenant, id);
                return Uni.createFrom().item("cancel-refused");
            }
            return redis.value(String.class).setex(RedisKeys.cancel(id), config.retention().toSeconds(), "1")
                    .chain(() -> publisher.cancel(id, Context.current()))
                    .replaceWith("cancelled");
        });
    }
}
