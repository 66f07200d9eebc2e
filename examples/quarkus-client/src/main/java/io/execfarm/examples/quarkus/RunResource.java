package io.execfarm.examples.quarkus;

import io.execfarm.contracts.ExecutionEvent;
import io.execfarm.contracts.ExecutionRequest;
import io.execfarm.contracts.Limits;
import io.smallrye.mutiny.Multi;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import java.util.UUID;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.resteasy.reactive.RestStreamElementType;

/**
 * {@code curl -N --data-binary @primes.jl 'localhost:8080/run?runtime=julia'}: the code's events as
 * Server-Sent Events, each the event's JSON, as they come.
 */
@Path("/run")
public class RunResource {

    private final FarmChannels farm;
    private final String tenant;
    private final String replies;

    public RunResource(FarmChannels farm, @ConfigProperty(name = "EXECFARM_TENANT") String tenant,
            @ConfigProperty(name = "EXECFARM_REPLIES") String replies) {
        this.farm = farm;
        this.tenant = tenant;
        this.replies = replies;
    }

    @POST
    @Produces(MediaType.SERVER_SENT_EVENTS)
    @RestStreamElementType(MediaType.APPLICATION_JSON)
    public Multi<ExecutionEvent> run(@QueryParam("runtime") @DefaultValue("julia") String runtime, String code) {
        ExecutionRequest request = new ExecutionRequest(UUID.randomUUID().toString(), runtime, code, null, tenant,
                ExecutionRequest.DEFAULT_TIMEOUT_MS, replies, Limits.DEFAULT, null, null);
        return farm.submit(request);
    }
}
