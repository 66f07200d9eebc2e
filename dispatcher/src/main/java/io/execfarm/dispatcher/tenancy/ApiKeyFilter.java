package io.execfarm.dispatcher.tenancy;

import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.Response;
import java.util.Map;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

/** Maps {@code X-API-Key} to a tenant for every API call; no known key, no service (401). */
public class ApiKeyFilter {

    public static final String HEADER = "X-API-Key";

    private final ApiKeys keys;
    private final CurrentTenant tenant;

    public ApiKeyFilter(ApiKeys keys, CurrentTenant tenant) {
        this.keys = keys;
        this.tenant = tenant;
    }

    /** Continues (null) with the caller's tenant set, or answers 401 (503 when run-time keys cannot be read). */
    @ServerRequestFilter
    public Uni<Response> authenticate(ContainerRequestContext request) {
        if (!request.getUriInfo().getPath().startsWith("/v1/")) {
            return Uni.createFrom().nullItem();
        }
        return keys.tenantOf(request.getHeaderString(HEADER)).map(found -> {
            if (found.isPresent()) {
                tenant.set(found.get());
                return null;
            }
            boolean missing = request.getHeaderString(HEADER) == null;
            return Response.status(401)
                    .type("application/problem+json")
                    .header("WWW-Authenticate", "ApiKey header=\"" + HEADER + "\"")
                    .entity(Map.of(
                            "type", "https://execfarm.io/problems/unauthorized",
                            "title", "Unauthorized",
                            "status", 401,
                            "detail", missing ? "send your API key in the " + HEADER + " header" : "that API key is not known",
                            "instance", request.getUriInfo().getPath()))
                    .build();
        }).onFailure().recoverWithItem(failure -> Response.status(503)
                .type("application/problem+json")
                .header("Retry-After", "1")
                .entity(Map.of(
                        "type", "https://execfarm.io/problems/keys-unavailable",
                        "title", "Cannot check the API key now",
                        "status", 503,
                        "detail", "the key is not a configured one, and the keys made at run time could not be read: "
                                + failure.getMessage(),
                        "instance", request.getUriInfo().getPath()))
                .build());
    }
}
