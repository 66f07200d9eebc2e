package io.execfarm.dispatcher.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.execfarm.contracts.ExecutionRequest;
import io.execfarm.contracts.InputFile;
import io.execfarm.contracts.Limits;
import io.execfarm.contracts.RedisKeys;
import io.execfarm.contracts.Topics;
import io.execfarm.contracts.WireNames;
import io.execfarm.contracts.WirePaths;
import io.execfarm.dispatcher.config.DispatcherConfig;
import io.execfarm.dispatcher.events.EventFollower;
import io.execfarm.dispatcher.events.ExecutionRecord;
import io.execfarm.dispatcher.events.ExecutionStore;
import io.execfarm.dispatcher.events.IndexedEvent;
import io.execfarm.dispatcher.messaging.FarmPublisher;
import io.execfarm.dispatcher.messaging.LiveWorkers;
import io.execfarm.dispatcher.session.SessionStore;
import io.execfarm.dispatcher.tenancy.CurrentTenant;
import io.execfarm.dispatcher.tenancy.InFlight;
import io.execfarm.dispatcher.tracing.ExecutionTracing;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Context;
import io.quarkus.redis.datasource.ReactiveRedisDataSource;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotNull;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.UriInfo;
import jakarta.ws.rs.sse.OutboundSseEvent;
import jakarta.ws.rs.sse.Sse;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.jboss.resteasy.reactive.RestHeader;
import org.jboss.resteasy.reactive.RestPath;
import org.jboss.resteasy.reactive.RestQuery;
import org.jboss.resteasy.reactive.RestResponse;

/** API v1: submit, wait, look up, stream and cancel executions. Every call is scoped to the caller's tenant. */
@Path("/v1/executions")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
public class ExecutionsResource {

    /** How long past its own timeout a ?wait=true call waits for a result before answering 504. */
    private static final Duration WAIT_GRACE = Duration.ofSeconds(5);

    private final CurrentTenant tenant;
    private final DispatcherConfig config;
    private final LiveWorkers liveWorkers;
    private final InFlight inFlight;
    private final ExecutionStore store;
    private final EventFollower follower;
    private final FarmPublisher publisher;
    private final ReactiveRedisDataSource redis;
    private final SessionStore sessions;
    private final ExecutionTracing tracing;
    private final ObjectMapper json = new ObjectMapper();

    public ExecutionsResource(CurrentTenant tenant, DispatcherConfig config, LiveWorkers liveWorkers, InFlight inFlight,
            ExecutionStore store, EventFollower follower, FarmPublisher publisher, ReactiveRedisDataSource redis,
            SessionStore sessions, ExecutionTracing tracing) {
        this.tenant = tenant;
        this.config = config;
        this.liveWorkers = liveWorkers;
        this.inFlight = inFlight;
        this.store = store;
        this.follower = follower;
        this.publisher = publisher;
        this.redis = redis;
        this.sessions = sessions;
        this.tracing = tracing;
    }

    @POST
    @Operation(summary = "Submit code to run", description = "202 with the execution's id and Location; with "
            + "wait=true, the finished execution and its output (504 if it does not finish within its timeout plus "
            + "the queue timeout; it then continues and can be fetched).")
    public Uni<RestResponse<Object>> submit(@Valid @NotNull(message = "a JSON body is required") SubmitRequest body,
            @RestQuery boolean wait, @jakarta.ws.rs.core.Context UriInfo uri) {
        String owner = tenant.name();
        // This call's server span, taken now: the stages below run without context propagation.
        Context traced = Context.current();
        if (body.code().getBytes(StandardCharsets.UTF_8).length > config.maxCodeBytes()) {
            throw ProblemException.badField("code", "'code' is over the limit of " + config.maxCodeBytes() + " bytes of UTF-8");
        }
        ProblemException.requireWorkers(liveWorkers, body.runtime(), config.liveWorkersRefresh());
        String id = UUID.randomUUID().toString();
        long timeoutMs = body.timeoutMs() != null ? body.timeoutMs() : config.defaultTimeout().toMillis();
        Instant now = Instant.now();
        // A request that starts by then finishes, timed out at the latest, while it still counts against
        // its tenant; one that a worker reaches later is answered expired instead of running uncounted.
        Instant startBy = now.plus(config.queueTimeout());
        ExecutionRequest request = request(body, id, owner, timeoutMs, now, startBy);
        Instant countsUntil = startBy.plusMillis(timeoutMs);
        ExecutionRecord record = new ExecutionRecord(id, owner, body.runtime(), body.session(), timeoutMs, now,
                tracing.traceparent(traced));
        return admit(body, owner, id, countsUntil)
                .chain(() -> store.create(record)
                        .onFailure().call(() -> inFlight.release(owner, id))
                        .onFailure().transform(failure -> storeUnavailable("Redis did not take the execution's record, "
                                + "so it was not queued: " + failure.getMessage())))
                .chain(() -> publish(request, traced))
                .chain(() -> {
                    URI location = uri.getBaseUriBuilder().path("v1/executions").path(id).build();
                    if (!wait) {
                        Map<String, String> queued = Map.of("id", id, "status", "queued", "events", location + "/events");
                        return Uni.createFrom().item(RestResponse.ResponseBuilder.<Object>create(
                                RestResponse.Status.ACCEPTED, queued).location(location).build());
                    }
                    Duration patience = Duration.ofMillis(timeoutMs).plus(config.queueTimeout()).plus(WAIT_GRACE);
                    return finished(record, patience, traced)
                            .map(view -> RestResponse.ResponseBuilder.<Object>ok(view).location(location).build());
                });
    }

    private static ExecutionRequest request(SubmitRequest body, String id, String owner, long timeoutMs, Instant now,
            Instant startBy) {
        List<InputFile> files = inputFiles(body.files() == null ? List.of() : body.files());
        List<String> collect = body.collect() == null ? List.of() : body.collect();
        for (int i = 0; i < collect.size(); i++) {
            if (!WirePaths.isGlob(collect.get(i))) {
                throw ProblemException.badField("collect[" + i + "]", "'collect[" + i + "]' " + WirePaths.rule("glob"));
            }
        }
        if (InputFile.totalBytes(files) > InputFile.MAX_TOTAL_BYTES) {
            throw ProblemException.badField("files", "the files hold " + InputFile.totalBytes(files) + " bytes together, "
                    + "over the limit of " + InputFile.MAX_TOTAL_BYTES + " for files sent with a request");
        }
        if (files.stream().map(InputFile::path).distinct().count() < files.size()) {
            throw ProblemException.badField("files", "two files name the same path");
        }
        return new ExecutionRequest(id, body.runtime(), body.code(), body.session(), owner, timeoutMs, Topics.REPLIES,
                new Limits(body.maxOutputBytes() != null ? body.maxOutputBytes() : Limits.DEFAULT_MAX_OUTPUT_BYTES),
                now, startBy, files, collect);
    }

    private static List<InputFile> inputFiles(List<SubmitRequest.File> sent) {
        List<InputFile> files = new ArrayList<>();
        for (int i = 0; i < sent.size(); i++) {
            SubmitRequest.File file = sent.get(i);
            String field = "files[" + i + "]";
            if (file == null || !WirePaths.isFile(file.path())) {
                throw ProblemException.badField(field + ".path", "'" + field + ".path' " + WirePaths.rule("path"));
            }
            if ((file.base64() != null ? 1 : 0) + (file.text() != null ? 1 : 0) + (file.ref() != null ? 1 : 0) != 1) {
                throw ProblemException.badField(field, "'" + field + "' must give its content as 'base64' or as 'text', "
                        + "or the id of a stored file as 'ref': exactly one of them");
            }
            if (file.ref() != null && !WireNames.isId(file.ref())) {
                throw ProblemException.badField(field + ".ref", "'" + field + ".ref' must be a file id, as POST /v1/files "
                        + "answers");
            }
            try {
                files.add(file.ref() != null ? InputFile.stored(file.path(), file.ref())
                        : file.text() != null ? InputFile.of(file.path(), file.text().getBytes(StandardCharsets.UTF_8))
                        : new InputFile(file.path(), file.base64(), null));
            } catch (IllegalArgumentException e) {
                throw ProblemException.badField(field + ".base64", "'" + field + ".base64' must be base64 (RFC 4648, "
                        + "with padding)");
            }
        }
        return files;
    }

    /** The session is the tenant's and of this runtime, and the tenant may run one more; or a problem says why not. */
    private Uni<Void> admit(SubmitRequest body, String owner, String id, Instant countsUntil) {
        return checkSession(body, owner).chain(() -> inFlight.admit(owner, id, countsUntil))
                .onFailure(failure -> !(failure instanceof ProblemException))
                .transform(failure -> storeUnavailable("Redis could not tell whether the tenant may run more, so the "
                        + "execution was not queued: " + failure.getMessage()))
                .invoke(admitted -> {
                    if (!admitted) {
                        throw new ProblemException(Problem.of(429, "too-many-in-flight", "Too many executions in flight",
                                "tenant " + owner + " has " + inFlight.limit(owner) + " executions in flight, its limit; "
                                        + "retry when one finishes"), Map.of("Retry-After", "1"));
                    }
                })
                .replaceWithVoid();
    }

    /** Redis failed a step before anything was queued (a failover takes seconds): try again. */
    private static ProblemException storeUnavailable(String detail) {
        return new ProblemException(Problem.of(503, "store-unavailable", "Could not record the execution", detail),
                Map.of("Retry-After", "1"));
    }

    /**
     * Publishes the request. Where Kafka refused it, it is forgotten; where the broker did not answer
     * in time it may still have the record, so the execution stays on record (and counted): should it
     * run, before its {@code startBy}, {@code GET} finds it.
     */
    private Uni<Void> publish(ExecutionRequest request, Context traced) {
        String id = request.id();
        return publisher.submit(request, traced).onFailure().recoverWithUni(failure -> {
            if (FarmPublisher.mayHaveReachedKafka(failure)) {
                return Uni.createFrom().failure(new ProblemException(Problem.of(503, "broker-unconfirmed",
                        "Queued without confirmation", "Kafka did not confirm the request in time (" + failure.getMessage()
                                + "); it may still run, if a worker takes it by " + request.startBy()
                                + ": GET /v1/executions/" + id + " tells")));
            }
            return inFlight.release(request.tenant(), id).chain(() -> store.delete(id))
                    .chain(() -> Uni.createFrom().failure(new ProblemException(Problem.of(503, "broker-unavailable",
                            "Could not queue the execution", "Kafka did not accept the request: " + failure.getMessage()))));
        });
    }

    @GET
    @Path("{id}")
    @Operation(summary = "An execution's status, result and output so far")
    public Uni<ExecutionView> get(@RestPath String id) {
        return owned(id).chain(record -> store.events(id, 0).map(events -> view(record, events)));
    }

    @GET
    @Path("{id}/events")
    @Produces(MediaType.SERVER_SENT_EVENTS)
    @Blocking
    @Operation(summary = "Server-Sent Events: started, output..., result", description = "From the first event, "
            + "or after the one named by Last-Event-ID; the stream ends after the result. A run that ends within its "
            + "first output tick (20 ms) without output sends no started event: its result is the only one.")
    public Multi<OutboundSseEvent> events(@RestPath String id, @RestHeader("Last-Event-ID") String lastEventId,
            @jakarta.ws.rs.core.Context Sse sse) {
        ExecutionRecord record = owned(id).await().atMost(Duration.ofSeconds(10));
        long from = 0;
        if (lastEventId != null && !lastEventId.isBlank()) {
            try {
                from = Math.max(0, Long.parseLong(lastEventId.strip()) + 1);
            } catch (NumberFormatException e) {
                throw ProblemException.badField("Last-Event-ID", "Last-Event-ID must be the id of an event of this stream");
            }
        }
        ExecutionTracing.Delivery delivery = tracing.delivering(tracing.submittedIn(record), Context.current(), id,
                "sse");
        return follower.follow(id, from)
                .invoke(event -> {
                    delivery.sent();
                    if ("result".equals(event.type())) {
                        delivery.delivered(parse(event.json()).path("status").asText());
                    }
                })
                .onTermination().invoke((failure, cancelled) -> delivery.ended(failure))
                .map(event -> sse.newEventBuilder()
                        .id(Long.toString(event.index()))
                        .name(event.type())
                        .data(String.class, event.json())
                        .build());
    }

    @DELETE
    @Path("{id}")
    @Operation(summary = "Cancel an execution", description = "Before it starts it never runs; while it runs its "
            + "process is stopped and the output so far kept. 409 when it already finished.")
    public Uni<RestResponse<Object>> cancel(@RestPath String id) {
        Context call = Context.current();
        // The worker stores the result before publishing it: one key says whether it finished.
        return owned(id).chain(record -> redis.value(String.class).get(RedisKeys.result(id)).chain(stored -> {
            if (stored != null) {
                throw new ProblemException(Problem.of(409, "already-finished", "Already finished",
                        "execution " + id + " already finished with status " + parse(stored).path("status").asText()));
            }
            Span span = tracing.cancelling(record, call);
            return redis.value(String.class).setex(RedisKeys.cancel(id), config.retention().toSeconds(), "1")
                    .chain(() -> publisher.cancel(id, Context.root().with(span)))
                    .onTermination().invoke(span::end)
                    .map(sent -> RestResponse.ResponseBuilder.<Object>create(RestResponse.Status.ACCEPTED,
                            Map.of("id", id, "status", "cancelling")).build());
        }));
    }

    /**
     * Refuses at once what the worker would reject: a session that is not the caller's (or not
     * there) and one of another runtime. The worker checks again when the request runs.
     */
    private Uni<Void> checkSession(SubmitRequest body, String owner) {
        if (body.session() == null) {
            return Uni.createFrom().voidItem();
        }
        return sessions.find(body.session()).map(session -> {
            if (session == null || !session.record().tenant().equals(owner)) {
                throw ProblemException.sessionNotFound(body.session());
            }
            if (!session.record().runtime().equals(body.runtime())) {
                throw ProblemException.badField("session", "session " + body.session() + " is a "
                        + session.record().runtime() + " session; send it " + session.record().runtime() + " code");
            }
            return null;
        }).replaceWithVoid();
    }

    private Uni<ExecutionRecord> owned(String id) {
        String owner = tenant.name();
        return store.find(id).map(record -> {
            // Another tenant's execution is reported exactly like a missing one.
            if (record == null || !record.tenant().equals(owner)) {
                throw ProblemException.notFound(id);
            }
            return record;
        });
    }

    private Uni<ExecutionView> finished(ExecutionRecord record, Duration patience, Context traced) {
        String id = record.id();
        ExecutionTracing.Delivery delivery = tracing.delivering(traced, traced, id, "wait");
        return follower.follow(id, 0).invoke(event -> delivery.sent()).map(IndexedEvent::json).collect().asList()
                .ifNoItem().after(patience).failWith(() -> new ProblemException(Problem.of(504, "not-finished",
                        "Not finished in time", "execution " + id + " did not finish within " + patience.toSeconds()
                                + " s; it continues: GET /v1/executions/" + id)))
                .map(events -> view(record, events))
                .invoke(view -> delivery.delivered(view.status()))
                .onTermination().invoke((view, failure, cancelled) -> delivery.ended(failure));
    }

    private ExecutionView view(ExecutionRecord record, List<String> events) {
        StringBuilder stdout = new StringBuilder();
        StringBuilder stderr = new StringBuilder();
        List<JsonNode> displays = new ArrayList<>();
        JsonNode result = null;
        boolean started = false;
        for (String event : events) {
            JsonNode node = parse(event);
            switch (node.path("type").asText()) {
                case "started" -> started = true;
                case "output" -> ("stderr".equals(node.path("stream").asText()) ? stderr : stdout)
                        .append(node.path("text").asText());
                case "display" -> displays.add(node.path("data"));
                case "result" -> result = node;
                default -> { }
            }
        }
        String status = result != null ? result.path("status").asText() : started ? "running" : "queued";
        return new ExecutionView(record.id(), record.runtime(), status, record.submittedAt().toString(), record.session(),
                result, stdout.toString(), stderr.toString(), result != null && result.path("truncated").asBoolean(),
                displays);
    }

    private JsonNode parse(String event) {
        try {
            return json.readTree(event);
        } catch (Exception e) {
            return json.createObjectNode();
        }
    }
}
