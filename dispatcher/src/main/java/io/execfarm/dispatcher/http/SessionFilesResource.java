package io.execfarm.dispatcher.http;

import io.execfarm.contracts.Digests;
import io.execfarm.contracts.InputFile;
import io.execfarm.contracts.MediaTypes;
import io.execfarm.contracts.WirePaths;
import io.execfarm.dispatcher.config.DispatcherConfig;
import io.execfarm.dispatcher.session.SessionFileStore;
import io.execfarm.dispatcher.session.SessionStore;
import io.execfarm.dispatcher.tenancy.CurrentTenant;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.time.Instant;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.jboss.resteasy.reactive.RestPath;
import org.jboss.resteasy.reactive.RestResponse;

/**
 * API v1 session files: files a session's code finds in its working directory, whatever process
 * and worker hold the session and after any rebuild (docs/architecture.md, "Files and displays").
 * Every call is scoped to the caller's tenant; another tenant's session is reported exactly like a
 * missing one.
 */
@Path("/v1/sessions/{id}/files")
public class SessionFilesResource {

    private final CurrentTenant tenant;
    private final DispatcherConfig config;
    private final SessionStore sessions;
    private final SessionFileStore files;

    public SessionFilesResource(CurrentTenant tenant, DispatcherConfig config, SessionStore sessions,
            SessionFileStore files) {
        this.tenant = tenant;
        this.config = config;
        this.sessions = sessions;
        this.files = files;
    }

    @PUT
    @Path("{path: .+}")
    @Consumes(MediaType.WILDCARD)
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "Store a file in the session", description = "The body is the file. Every process that "
            + "holds the session finds it at PATH in its working directory before the session's next request, "
            + "whichever worker runs it and after any rebuild; a file at PATH already is replaced.")
    public Uni<SessionFileStore.SessionFile> putFile(@RestPath String id, @RestPath String path, byte[] body) {
        if (!WirePaths.isFile(path)) {
            throw ProblemException.badField("path", "the file's path " + WirePaths.rule("path"));
        }
        byte[] content = body == null ? new byte[0] : body;
        ProblemException.requireUploadSize(content, config.files().maxUploadBytes().asLongValue());
        long maxBytes = config.sessions().maxFiles().asLongValue();
        SessionFileStore.SessionFile file = new SessionFileStore.SessionFile(path, content.length, Digests.sha256(content),
                MediaTypes.of(path), Instant.now().toString());
        return files.put(id, tenant.name(), file, content, maxBytes, InputFile.MAX_FILES).map(outcome -> switch (outcome) {
            case DONE -> file;
            case NO_SESSION -> throw ProblemException.sessionNotFound(id);
            case OVER_BYTES -> throw new ProblemException(Problem.of(413, "session-files-full", "Session files full",
                    "the session's files would hold more than " + maxBytes + " bytes together"));
            default -> throw new ProblemException(Problem.of(413, "session-files-full", "Session files full",
                    "the session holds " + InputFile.MAX_FILES + " files already"));
        });
    }

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "The session's files: path, size, SHA-256, media type, when stored")
    public Uni<List<SessionFileStore.SessionFile>> listFiles(@RestPath String id) {
        return owned(id).chain(() -> files.list(id));
    }

    @GET
    @Path("{path: .+}")
    @Operation(summary = "A session file's bytes, as stored (not as the session's code may have changed it since)")
    public Uni<RestResponse<byte[]>> getFile(@RestPath String id, @RestPath String path) {
        return owned(id).chain(() -> files.find(id, path)).chain(file -> {
            if (file == null) {
                throw sessionFileNotFound(id, path);
            }
            return files.content(id, path).map(content -> {
                if (content == null) {
                    throw sessionFileNotFound(id, path);
                }
                return RestResponse.ResponseBuilder.ok(content, file.mediaType())
                        .header("ETag", "\"" + file.sha256() + "\"").build();
            });
        });
    }

    @DELETE
    @Path("{path: .+}")
    @Operation(summary = "Remove a file from the session", description = "It is no longer written into the "
            + "session's processes; a process that holds the session keeps its copy until the session is rebuilt.")
    public Uni<RestResponse<Void>> deleteFile(@RestPath String id, @RestPath String path) {
        return files.delete(id, tenant.name(), path).map(outcome -> switch (outcome) {
            case DONE -> RestResponse.<Void>noContent();
            case NO_FILE -> throw sessionFileNotFound(id, path);
            default -> throw ProblemException.sessionNotFound(id);
        });
    }

    private static ProblemException sessionFileNotFound(String id, String path) {
        return new ProblemException(Problem.of(404, "file-not-found", "No such file",
                "session " + id + " has no file " + path));
    }

    private Uni<Void> owned(String id) {
        return SessionsResource.owned(sessions, tenant.name(), id).replaceWithVoid();
    }
}
