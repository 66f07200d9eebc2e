package io.execfarm.contracts;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/**
 * Start session {@code session} (an id the client chose: a fresh UUID, say) on {@code runtime}. Sent
 * again with the same id, for the same tenant and runtime, it changes nothing and is answered
 * {@code ok} again (a record read twice); an id another tenant holds is refused.
 *
 * @param idleTimeoutMs the session ends after this long without a request; absent: the farm's idle
 *                      timeout, and never more than it
 */
@JsonPropertyOrder({"v", "type", "id", "session", "runtime", "idleTimeoutMs", "replyTo"})
@JsonInclude(JsonInclude.Include.NON_NULL)
public record OpenSession(String id, String session, String runtime, Long idleTimeoutMs, String replyTo)
        implements SessionCommand {

    public static final String TYPE = "openSession";

    public OpenSession {
        SessionCommand.requireValid(id, session, replyTo);
        if (!WireNames.isRuntime(runtime)) {
            throw new IllegalArgumentException("invalid runtime: " + runtime);
        }
        if (idleTimeoutMs != null && idleTimeoutMs < 1) {
            throw new IllegalArgumentException("invalid idleTimeoutMs: " + idleTimeoutMs);
        }
    }

    @Override
    public String type() {
        return TYPE;
    }
}
