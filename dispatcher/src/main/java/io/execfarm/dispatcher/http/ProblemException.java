package io.execfarm.dispatcher.http;

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

    static ProblemException badField(String field, String detail) {
        return new ProblemException(Problem.of(400, "invalid-request", "Invalid request", detail).withField(field));
    }

    static ProblemException sessionNotFound(String id) {
        return new ProblemException(Problem.of(404, "session-not-found", "No such session",
                "there is no session " + id + " for this tenant (never created, another tenant's, deleted, or ended "
                        + "by its idle timeout or maximum age)"));
    }

    static ProblemException noLiveWorkers(String runtime, Collection<String> live) {
        return new ProblemException(Problem.of(400, "no-live-workers", "No workers for this runtime",
                "no live worker runs '" + runtime + "'; runtimes with live workers: " + live)
                .withField("runtime").withRuntimes(List.copyOf(live)));
    }

    static ProblemException notFound(String id) {
        return new ProblemException(Problem.of(404, "not-found", "No such execution",
                "there is no execution " + id + " for this tenant (unknown, another tenant's, or expired)"));
    }
}
