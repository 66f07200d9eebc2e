package io.execfarm.worker.messaging;

import io.execfarm.contracts.ExecutionRequest;
import io.execfarm.contracts.MalformedMessageException;
import io.execfarm.contracts.Result;
import io.execfarm.contracts.Topics;
import io.execfarm.contracts.WireCodec;
import io.execfarm.worker.config.WorkerId;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Optional;

/**
 * What a request record must be to run on this worker, whichever way it came: well formed, for the
 * runtime whose topic it is on, on a topic whose delivery suits it (a session's requests need
 * their partition's order, which a share group does not keep), and answered on a reply topic the
 * broker lets the worker write. A refused request's answer goes to its reply topic unless the
 * broker closed that topic to the worker.
 */
@ApplicationScoped
public class RequestRules {

    private final WireCodec codec;
    private final ReplyTopicLimits replyTopics;
    private final String workerId;

    public RequestRules(WireCodec codec, ReplyTopicLimits replyTopics, WorkerId workerId) {
        this.codec = codec;
        this.replyTopics = replyTopics;
        this.workerId = workerId.value();
    }

    /** A record's request, or why it cannot run and the answer its sender gets, if one can be addressed. */
    sealed interface Decoded {

        record Runnable(ExecutionRequest request) implements Decoded {
        }

        /** {@code replyTo} and {@code errorResult} are null where the record names no sender or request. */
        record Refused(String reason, String replyTo, Result errorResult) implements Decoded {
        }
    }

    Decoded decode(String runtime, RequestRecord record) {
        ExecutionRequest request;
        try {
            request = codec.decodeRequest(record.payload());
        } catch (MalformedMessageException e) {
            return refused(e.getMessage(), e.replyTo().orElse(null),
                    e.requestId().map(id -> Result.rejected(id, workerId, "MalformedRequest", e.getMessage())).orElse(null));
        }
        boolean shared = record.topic().equals(Topics.sharedRequests(runtime));
        if (shared && request.session() != null) {
            String reason = "a request with a session was published to " + record.topic()
                    + ", whose requests run in no order; publish it to " + Topics.requests(runtime)
                    + ", where a session's requests run in order";
            return refused(reason, request.replyTo(), Result.rejected(request.id(), workerId, "SessionOnSharedTopic", reason));
        }
        if (!request.runtime().equals(runtime)) {
            String rightTopic = shared ? Topics.sharedRequests(request.runtime()) : Topics.requests(request.runtime());
            String reason = "a " + request.runtime() + " request was published to " + record.topic()
                    + "; publish it to " + rightTopic;
            return refused(reason, request.replyTo(), Result.rejected(request.id(), workerId, "WrongRuntime", reason));
        }
        Optional<String> closed = replyTopics.closedBecause(request.replyTo());
        if (closed.isPresent()) {
            return new Decoded.Refused("its reply topic " + request.replyTo() + " is closed to the farm's workers ("
                    + closed.get() + "); name " + Topics.REPLIES + " or a topic under " + Topics.TENANT_PREFIX
                    + "<tenant>.", null, null);
        }
        return new Decoded.Runnable(request);
    }

    private Decoded.Refused refused(String reason, String replyTo, Result errorResult) {
        if (replyTo != null && replyTopics.closedBecause(replyTo).isPresent()) {
            return new Decoded.Refused(reason, null, null);
        }
        return new Decoded.Refused(reason, replyTo, errorResult);
    }
}
