package io.execfarm.worker.messaging;

import io.execfarm.contracts.ExecutionRequest;
import io.execfarm.contracts.MalformedMessageException;
import io.execfarm.contracts.Result;
import io.execfarm.contracts.WireCodec;
import io.execfarm.worker.results.ResultStore;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import io.execfarm.worker.config.WorkerId;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/**
 * Consumes requests for the Python runtime. The offset of a request is committed only after its
 * result is stored and acknowledged by the broker (the returned Uni completes), so a crash before
 * then means redelivery, never a lost request.
 *
 * <p>Execution itself arrives with the process pool; until then every well-formed request is
 * answered with a {@code rejected} result that says so.
 */
@ApplicationScoped
public class RequestConsumer {

    private static final Logger LOG = Logger.getLogger(RequestConsumer.class);

    private final WireCodec codec;
    private final ResultStore results;
    private final ReplyPublisher replies;
    private final WorkerId workerId;

    public RequestConsumer(WireCodec codec, ResultStore results, ReplyPublisher replies, WorkerId workerId) {
        this.codec = codec;
        this.results = results;
        this.replies = replies;
        this.workerId = workerId;
    }

    @Incoming("requests-python")
    public Uni<Void> onRequest(ConsumerRecord<String, byte[]> record) {
        ExecutionRequest request;
        try {
            request = codec.decodeRequest(record.value());
        } catch (MalformedMessageException e) {
            LOG.warnf("malformed request at %s-%d@%d: %s", record.topic(), record.partition(), record.offset(),
                    e.getMessage());
            if (!e.canReply()) {
                return Uni.createFrom().voidItem();
            }
            Result rejected = Result.rejected(e.requestId().orElseThrow(), workerId.value(), "MalformedRequest", e.getMessage());
            return finish(e.replyTo().orElseThrow(), rejected);
        }
        Result result = Result.rejected(request.id(), workerId.value(), "NotImplemented",
                "this worker build has no runtime pool yet");
        return finish(request.replyTo(), result);
    }

    private Uni<Void> finish(String replyTo, Result result) {
        return results.put(result).chain(() -> replies.publish(replyTo, result));
    }
}
