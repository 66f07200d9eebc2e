package io.execfarm.dispatcher.http;

import io.execfarm.dispatcher.messaging.LiveWorkers;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/** Ends a request with a problem document and, optionally, extra response headers. */
public final class ProblemException extends RuntimeException {

    private final Problem problem;
    private final Map<String, String> headers;

    ProblemException(Problem problem) {
        this(problem, Map.of());
    }

    ProblemException(Problem problem, Map<String, String> headers) {
        super(problem.detail(), null, false, false);
        this.problem = problem;
        this.headers = headers;
    }

    Problem problem() {
        return problem;
    }

    Map<String, String> headers() {
        return headers;
    }

    /** A file sent to be stored must be at most {@code max} bytes: 413 with its size past that. */
    static void requireUploadSize(byte[] content, long max) {
        if (content.length > max) {
            throw new ProblemException(Problem.of(413, "file-too-large", "File too large",
                    "the file is " + content.length + " bytes, over the limit of " + max + " for an upload"));
        }
    }

    static ProblemException badField(String field, String detail) {
        return new ProblemException(Problem.of(400, "invalid-request", "Invalid request", detail).withField(field));
    }

    static ProblemException sessionNotFound(String id) {
        return new ProblemException(Problem.of(404, "session-not-found", "No such session",
                "there is no session " + id + " for this tenant (never created, another tenant's, deleted, or ended "
                        + "by its idle timeout or maximum age)"));
    }

    /**
     * Refuses a request for a runtime no worker serves now: 503, to be retried, when its workers
     * are away for the moment (stopped, or being replaced); 400 when none ever served it here.
     */
    static void requireWorkers(LiveWorkers workers, String runtime, Duration lookupEvery) {
        switch (workers.availability(runtime)) {
            case LIVE -> {
            }
            case AWAY -> throw new ProblemException(Problem.of(503, "workers-away", "No worker serves this runtime now",
                    "the workers for '" + runtime + "' have left and none serves it now; retry, one may be starting")
                    .withField("runtime").withRuntimes(List.copyOf(workers.runtimes())),
                    Map.of("Retry-After", Long.toString(Math.max(1, lookupEvery.toSeconds()))));
            case UNKNOWN -> throw noLiveWorkers(runtime, workers.runtimes());
        }
    }

    private static ProblemException noLiveWorkers(String runtime, Collection<String> live) {
        return new ProblemException(Problem.of(400, "no-live-workers", "No workers for this runtime",
                "no live worker runs '" + runtime + "'; runtimes with live workers: " + live)
                .withField("runtime").withRuntimes(List.copyOf(live)));
    }

    static ProblemException notFound(String id) {
        return new ProblemException(Problem.of(404, "not-found", "No such execution",
                "there is no execution " + id + " for this tenant (unknown, another tenant's, or expired)"));
    }
}
