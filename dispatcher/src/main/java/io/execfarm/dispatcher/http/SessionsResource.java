package io.execfarm.dispatcher.http;

import io.execfarm.contracts.SessionRecord;
import io.execfarm.dispatcher.config.DispatcherConfig;
import io.execfarm.dispatcher.messaging.LiveWorkers;
import io.execfarm.dispatcher.session.SessionStore;
import io.execfarm.dispatcher.tenancy.CurrentTenant;
import io.smallrye.mutiny.Uni;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotNull;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.UriInfo;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.jboss.resteasy.reactive.RestPath;
import org.jboss.resteasy.reactive.RestResponse;

/**
 * API v1 sessions: a namespace whose variables, functions and loaded packages persist from one
 * execution to the next (name it in {@code POST /v1/executions}). Every call is scoped to the
 * caller's tenant; another tenant's session is reported exactly like a missing one.
 */
@Path("/v1/sessions")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
public class SessionsResource {

    private final CurrentTenant tenant;
    private final DispatcherConfig config;
    private final LiveWorkers liveWorkers;
    private final SessionStore sessions;

    public SessionsResource(CurrentTenant tenant, DispatcherConfig config, LiveWorkers liveWorkers,
            SessionStore sessions) {
        this.tenant = tenant;
        this.config = config;
        this.liveWorkers = liveWorkers;
        this.sessions = sessions;
    }

    @POST
    @Operation(summary = "Start a session", description = "201 with the session and its Location. It ends after "
            + "idleTimeoutSeconds without a request, after the maximum age, or when deleted.")
    public Uni<RestResponse<SessionView>> create(
            @Valid @NotNull(message = "a JSON body is required") CreateSessionRequest body, @Context UriInfo uri) {
        DispatcherConfig.Sessions limits = config.sessions();
        Duration idle = limits.idleTimeout();
        if (body.idleTimeoutSeconds() != null) {
            if (body.idleTimeoutSeconds() > idle.toSeconds()) {
                throw ProblemException.badField("idleTimeoutSeconds",
                        "'idleTimeoutSeconds' must be at most " + idle.toSeconds() + ", this farm's idle timeout");
            }
            idle = Duration.ofSeconds(body.idleTimeoutSeconds());
        }
        ProblemException.requireWorkers(liveWorkers, body.runtime(), config.liveWorkersRefresh());
        String id = UUID.randomUUID().toString();
        SessionRecord record = new SessionRecord(tenant.name(), body.runtime(), Instant.now(), idle, limits.maxAge(),
                limits.maxHistory().asLongValue());
        URI location = uri.getBaseUriBuilder().path("v1/sessions").path(id).build();
        return sessions.create(id, record).chain(() -> owned(id)).map(session -> RestResponse.ResponseBuilder
                .<SessionView>created(location).entity(view(session)).build());
    }

    @GET
    @Path("{id}")
    @Operation(summary = "A session: its runtime, history size and when it ends")
    public Uni<SessionView> get(@RestPath String id) {
        return owned(id).map(SessionsResource::view);
    }

    @DELETE
    @Path("{id}")
    @Operation(summary = "End a session", description = "Its state is dropped and the process holding it retired; "
            + "an execution naming it afterwards is rejected.")
    public Uni<RestResponse<Void>> delete(@RestPath String id) {
        return owned(id).chain(session -> sessions.delete(id)).map(done -> RestResponse.noContent());
    }

    private Uni<SessionStore.StoredSession> owned(String id) {
        return owned(sessions, tenant.name(), id);
    }

    /** Session {@code id}, when it is {@code owner}'s; another tenant's is as missing (404) as one that is not. */
    static Uni<SessionStore.StoredSession> owned(SessionStore sessions, String owner, String id) {
        return sessions.find(id).map(session -> {
            if (session == null || !session.record().tenant().equals(owner)) {
                throw ProblemException.sessionNotFound(id);
            }
            return session;
        });
    }

    private static SessionView view(SessionStore.StoredSession session) {
        SessionRecord record = session.record();
        Instant lastUsed = session.lastUsedAt();
        return new SessionView(session.id(), record.runtime(), record.createdAt().toString(),
                lastUsed == null ? null : lastUsed.toString(), session.expiresAt().toString(),
                record.idleTimeout().toSeconds(), record.maxAge().toSeconds(), session.snippets(),
                session.historyBytes(), record.maxHistoryBytes());
    }
}
