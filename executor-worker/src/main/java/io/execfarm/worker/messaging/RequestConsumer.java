package io.execfarm.worker.messaging;

import io.execfarm.worker.messaging.RequestRecord.Disposition;
import io.execfarm.worker.runtime.KnownRuntimes;
import io.opentelemetry.context.Context;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.reactive.messaging.TracingMetadata;
import io.smallrye.reactive.messaging.kafka.KafkaRecord;
import io.smallrye.reactive.messaging.kafka.api.IncomingKafkaRecordMetadata;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.OptionalInt;
import java.util.concurrent.CompletionStage;
import org.eclipse.microprofile.reactive.messaging.Incoming;

/**
 * One channel per runtime, {@code requests-<runtime>}: a channel is switched on when this worker
 * serves the runtime. Each channel runs {@code concurrency} copies (the pool size), each with its
 * own Kafka consumer and one request at a time, so a partition's requests (one session's) run in
 * order and no more are in flight than the pool can run. A record is acknowledged (its offset
 * committed) once answered; one that cannot be answered is nacked, and the channel's failure
 * strategy writes it to the dead-letter topic with its reason.
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
        return handle(KnownRuntimes.PYTHON, record);
    }

    @Incoming("requests-julia")
    @Blocking
    public CompletionStage<Void> julia(KafkaRecord<String, byte[]> record) {
        return handle(KnownRuntimes.JULIA, record);
    }

    private CompletionStage<Void> handle(String runtime, KafkaRecord<String, byte[]> record) {
        Context received = TracingMetadata.fromMessage(record).map(TracingMetadata::getCurrentContext)
                .orElse(Context.root());
        Disposition disposition = handler.handle(runtime, new RequestRecord(record.getTopic(), record.getPartition(),
                offset(record), record.getKey(), record.getPayload(), record.getTimestamp(), received,
                OptionalInt.empty()));
        if (disposition instanceof Disposition.DeadLettered dead) {
            return record.nack(new RejectedRecordException(dead.reason()));
        }
        return record.ack();
    }

    private static long offset(KafkaRecord<String, byte[]> record) {
        return record.getMetadata(IncomingKafkaRecordMetadata.class).map(IncomingKafkaRecordMetadata::getOffset)
                .orElse(-1L);
    }
}
