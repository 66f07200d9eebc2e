package io.execfarm.dispatcher.http;

import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.Pattern;

/**
 * {@code POST /v1/sessions}.
 *
 * @param idleTimeoutSeconds the session ends after this long without a request; the dispatcher's
 *                           idle timeout when absent, and never more than it
 */
public record CreateSessionRequest(
        @NotBlank(message = "is required, e.g. \"julia\" or \"python\"")
        @Pattern(regexp = "[a-z][a-z0-9_-]{0,31}", message = "must be a runtime name such as julia or python")
        String runtime,
        @Min(value = 1, message = "must be at least 1")
        Long idleTimeoutSeconds) {
}
