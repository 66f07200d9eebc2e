package io.execfarm.client;

import io.execfarm.contracts.ExecutionRequest;
import io.execfarm.contracts.InputFile;
import io.execfarm.contracts.Limits;
import io.execfarm.contracts.WireNames;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.UUID;

/**
 * What to run: the parts of a request its sender chooses. The client adds the rest (its tenant,
 * its reply topic, and, sent straight to the runtime topics, a {@code startBy}), so a program never
 * writes a reply topic by hand. Immutable; each {@code with} method returns a new job.
 *
 * @param id      the request id: a fresh UUID unless chosen (a sender that may send the same work
 *                again keeps its id, and the farm runs one id once)
 * @param session a session opened over the dispatcher's HTTP API, or null
 * @param timeout how long the code may run (the request's {@code timeoutMs})
 */
public record Job(String id, String runtime, String code, String session, Duration timeout, Limits limits,
        List<InputFile> files, List<String> collect) {

    public Job {
        if (!WireNames.isId(id)) {
            throw new IllegalArgumentException("not a request id: " + id);
        }
        if (!WireNames.isRuntime(runtime)) {
            throw new IllegalArgumentException("not a runtime name: " + runtime);
        }
        Objects.requireNonNull(code, "code");
        if (session != null && !WireNames.isId(session)) {
            throw new IllegalArgumentException("not a session id: " + session);
        }
        if (timeout.toMillis() < 1 || timeout.toMillis() > ExecutionRequest.MAX_TIMEOUT_MS) {
            throw new IllegalArgumentException("a timeout runs from 1 ms to 1 h: " + timeout);
        }
        Objects.requireNonNull(limits, "limits");
        files = List.copyOf(files);
        collect = List.copyOf(collect);
    }

    /** {@code code} on {@code runtime}, with a fresh id and every option at the farm's default. */
    public static Job of(String runtime, String code) {
        return new Job(UUID.randomUUID().toString(), runtime, code, null,
                Duration.ofMillis(ExecutionRequest.DEFAULT_TIMEOUT_MS), Limits.DEFAULT, List.of(), List.of());
    }

    public Job withId(String newId) {
        return new Job(newId, runtime, code, session, timeout, limits, files, collect);
    }

    public Job inSession(String newSession) {
        return new Job(id, runtime, code, newSession, timeout, limits, files, collect);
    }

    public Job withTimeout(Duration newTimeout) {
        return new Job(id, runtime, code, session, newTimeout, limits, files, collect);
    }

    public Job withLimits(Limits newLimits) {
        return new Job(id, runtime, code, session, timeout, newLimits, files, collect);
    }

    public Job withFiles(List<InputFile> newFiles) {
        return new Job(id, runtime, code, session, timeout, limits, newFiles, collect);
    }

    public Job collecting(List<String> globs) {
        return new Job(id, runtime, code, session, timeout, limits, files, globs);
    }

    /** The wire request: {@code startBy} null where the farm sets it (the dispatcher's forwarder does). */
    ExecutionRequest toRequest(String tenant, String replyTo, Instant submittedAt, Instant startBy) {
        return new ExecutionRequest(id, runtime, code, session, tenant, timeout.toMillis(), replyTo, limits,
                submittedAt, startBy, files, collect);
    }
}
