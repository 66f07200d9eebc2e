package io.execfarm.worker.delivery;

import io.vertx.core.VertxException;
import io.vertx.core.impl.NoStackTraceThrowable;
import io.vertx.redis.client.Response;
import java.io.IOException;
import java.util.Set;
import org.apache.kafka.common.errors.RetriableException;

/**
 * Tells a failure that may pass by itself (a broker or Redis restarting, unreachable or slow) from
 * one that will happen again however long the worker waits (a reply topic it may not write, a
 * record too large for it, a script error): only the first kind is worth retrying.
 */
public final class TransientFailures {

    /**
     * Redis errors that mean "not now": loading its data after a restart, a busy script, a failover,
     * and the client's own for a command whose connection closed under it (Redis went away).
     */
    private static final Set<String> TRANSIENT_REDIS_ERRORS = Set.of("LOADING", "BUSY", "TRYAGAIN", "READONLY",
            "MASTERDOWN", "CLUSTERDOWN", "MISCONF", "CONNECTION_CLOSED");

    private TransientFailures() {
    }

    public static boolean isTransient(Throwable failure) {
        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
            if (cause instanceof Response && cause.getMessage() != null) {
                return TRANSIENT_REDIS_ERRORS.contains(cause.getMessage().split(" ", 2)[0]);
            }
            if (cause instanceof RetriableException
                    || cause instanceof IOException
                    || cause instanceof java.util.concurrent.TimeoutException
                    || cause instanceof io.smallrye.mutiny.TimeoutException
                    // Vert.x's own connection failures: closed, pool too busy, connect timeouts; a
                    // connection closed under a command comes without a stack trace.
                    || cause instanceof VertxException
                    || cause instanceof NoStackTraceThrowable) {
                return true;
            }
            if (cause.getCause() == cause) {
                break;
            }
        }
        return false;
    }
}
