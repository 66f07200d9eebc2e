package io.execfarm.dispatcher.http;

import io.execfarm.contracts.Digests;
import io.execfarm.contracts.MediaTypes;
import io.execfarm.contracts.WirePaths;
import io.execfarm.dispatcher.config.DispatcherConfig;
import io.execfarm.dispatcher.files.FileStore;
import io.execfarm.dispatcher.files.StoredFile;
import io.execfarm.dispatcher.tenancy.CurrentTenant;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.UriInfo;
import java.time.Instant;
import java.util.UUID;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.jboss.resteasy.reactive.RestPath;
import org.jboss.resteasy.reactive.RestQuery;
import org.jboss.resteasy.reactive.RestResponse;

/**
 * API v1 files: uploaded ahead of the executions that bring them ({@code files[].ref}), and the
 * collected files too large to ride in a result, served here by the id the result names. Every
 * file is its tenant's; another tenant's is reported exactly like a missing one.
 */
@Path("/v1/files")
public class FilesResource {

    private final CurrentTenant tenant;
    private final DispatcherConfig config;
    private final FileStore files;

    public FilesResource(CurrentTenant tenant, DispatcherConfig config, FileStore files) {
        this.tenant = tenant;
        this.config = config;
        this.files = files;
    }

    @POST
    @Consumes(MediaType.WILDCARD)
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "Upload a file", description = "The body is the file's bytes; name says what it is called "
            + "(its media type comes from it). 201 with its id, for files[].ref in an execution, kept for the "
            + "dispatcher's file lifetime.")
    public Uni<RestResponse<StoredFile>> upload(byte[] body, @RestQuery String name, @Context UriInfo uri) {
        String owner = tenant.name();
        String fileName = name == null || name.isBlank() ? "upload" : name;
        if (!WirePaths.isFile(fileName) || fileName.contains("/")) {
            throw ProblemException.badField("name", "'name' must be a file name: " + WirePaths.rule("path")
                    .replace("relative path", "name") + ", without '/'");
        }
        byte[] content = body == null ? new byte[0] : body;
        ProblemException.requireUploadSize(content, config.files().maxUploadBytes().asLongValue());
        String id = UUID.randomUUID().toString();
        return Uni.createFrom().item(() -> Digests.sha256(content)).runSubscriptionOn(Infrastructure.getDefaultWorkerPool())
                .map(digest -> new StoredFile(id, owner, fileName, content.length, digest, MediaTypes.of(fileName),
                        Instant.now().plus(config.files().lifetime())))
                .call(file -> files.put(id, file, content, config.files().lifetime())
                        .onFailure().transform(failure -> new ProblemException(Problem.of(503, "store-unavailable",
                                "Could not store the file", "Redis did not take it: " + failure.getMessage()))))
                .map(file -> RestResponse.ResponseBuilder.<StoredFile>created(
                        uri.getBaseUriBuilder().path("v1/files").path(id).build()).entity(file).build());
    }

    @GET
    @Path("{id}")
    @Operation(summary = "A file's bytes", description = "With its media type, name (Content-Disposition) and "
            + "SHA-256 (ETag).")
    public Uni<RestResponse<byte[]>> download(@RestPath String id) {
        return owned(id).chain(file -> files.content(id).map(content -> {
            if (content == null) {
                throw notFound(id);
            }
            return RestResponse.ResponseBuilder.ok(content, file.mediaType())
                    .header("Content-Disposition", "attachment; filename=\"" + file.name() + "\"")
                    .header("ETag", "\"" + file.sha256() + "\"").build();
        }));
    }

    @DELETE
    @Path("{id}")
    @Operation(summary = "Remove a file before it expires")
    public Uni<RestResponse<Void>> delete(@RestPath String id) {
        return owned(id).chain(() -> files.delete(id)).map(nothing -> RestResponse.noContent());
    }

    private Uni<StoredFile> owned(String id) {
        return files.find(tenant.name(), id).map(file -> {
            if (file == null) {
                throw notFound(id);
            }
            return file;
        });
    }

    private static ProblemException notFound(String id) {
        return new ProblemException(Problem.of(404, "file-not-found", "No such file",
                "there is no file " + id + " for this tenant (never stored, another tenant's, deleted, or expired)"));
    }
}
