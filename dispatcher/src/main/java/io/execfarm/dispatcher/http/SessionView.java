package io.execfarm.dispatcher.http;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * A session as {@code POST} and {@code GET /v1/sessions/{id}} show it.
 *
 * @param lastUsedAt     when a request last named it; absent until one did
 * @param expiresAt      when it ends unless a request names it before (never later than createdAt + maxAge)
 * @param snippets       requests in its history: those that ran to completion, ok or error
 * @param historyBytes   the code in its history, against {@code maxHistoryBytes}
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record SessionView(String id, String runtime, String createdAt, String lastUsedAt, String expiresAt,
        long idleTimeoutSeconds, long maxAgeSeconds, long snippets, long historyBytes, long maxHistoryBytes) {
}
