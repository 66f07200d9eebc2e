package io.execfarm.worker.messaging;

import io.execfarm.worker.runtime.KnownRuntimes;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.reactive.messaging.kafka.KafkaRecord;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.concurrent.CompletionStage;
import org.eclipse.microprofile.reactive.messaging.Incoming;

/**
 * One channel per runtime, {@code requests-<runtime>}: a channel is switched on when this worker
 * serves the runtime. Each channel runs {@code concurrency} copies (the pool size), each with its
 * own Kafka consumer and one request at a time, so a partition's requests (one session's) run in
 * order and no more are in flight than the pool can run.
 */
@ApplicationScoped
public class RequestConsumer {

    private final RequestHandler handler;

    public RequestConsumer(RequestHandler handler) {
        this.handler = handler;
    }

    @Incoming("requests-python")
    @Blocking
    public CompletionStage<Void> python(KafkaRecord<String, byte[]> record) {
        return handler.handle(KnownRuntimes.PYTHON, record);
    }

    @Incoming("requests-julia")
    @Blocking
    public CompletionStage<Void> julia(KafkaRecord<String, byte[]> record) {
        return handler.handle(KnownRuntimes.JULIA, record);
    }
}
