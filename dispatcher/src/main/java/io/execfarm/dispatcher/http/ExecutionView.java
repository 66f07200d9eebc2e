package io.execfarm.dispatcher.http;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * An execution as {@code GET /v1/executions/{id}} and {@code ?wait=true} show it.
 *
 * @param status {@code queued}, {@code running}, or the result's status once finished
 * @param result the {@code result} event, once there is one
 * @param stdout the output so far, rebuilt from the output events
 * @param displays the MIME bundles the code displayed, in order (each {@code display} event's {@code data});
 *               absent when there are none
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ExecutionView(String id, String runtime, String status, String submittedAt, String session,
        JsonNode result, String stdout, String stderr, boolean truncated,
        @JsonInclude(JsonInclude.Include.NON_EMPTY) List<JsonNode> displays) {
}
