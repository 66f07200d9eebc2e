package io.execfarm.dispatcher.tenancy;

import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.Response;
import java.util.Map;
import java.util.Optional;
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

    @ServerRequestFilter
    public Optional<Response> authenticate(ContainerRequestContext request) {
        if (!request.getUriInfo().getPath().startsWith("/v1/")) {
            return Optional.empty();
        }
        Optional<String> found = keys.tenantOf(request.getHeaderString(HEADER));
        if (found.isEmpty()) {
            boolean missing = request.getHeaderString(HEADER) == null;
            return Optional.of(Response.status(401)
                    .type("application/problem+json")
                    .header("WWW-Authenticate", "ApiKey header=\"" + HEADER + "\"")
                    .entity(Map.of(
                            "type", "https://execfarm.io/problems/unauthorized",
                            "title", "Unauthorized",
                            "status", 401,
                            "detail", missing ? "send your API key in the " + HEADER + " header" : "that API key is not known",
                            "instance", request.getUriInfo().getPath()))
                    .build());
        }
        tenant.set(found.get());
        return Optional.empty();
    }
}
