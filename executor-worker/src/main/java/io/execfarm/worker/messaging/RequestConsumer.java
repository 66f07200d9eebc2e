package io.execfarm.worker.messaging;

import io.execfarm.worker.intake.Intakes;
import io.execfarm.worker.messaging.RequestRecord.Disposition;
import io.execfarm.worker.runtime.KnownRuntimes;
import io.opentelemetry.context.Context;
import io.smallrye.reactive.messaging.TracingMetadata;
import io.smallrye.reactive.messaging.kafka.KafkaRecord;
import io.smallrye.reactive.messaging.kafka.api.IncomingKafkaRecordMetadata;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.OptionalInt;
import java.util.concurrent.CompletionStage;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/**
 * One channel per runtime, {@code requests-<runtime>}: a channel is switched on when this worker
 * serves the runtime. Each channel has one Kafka consumer, which hands its records to the runtime's
 * {@link io.execfarm.worker.intake.KeyedIntake}: a session's requests run in order, all others side
 * by side up to the pool's free processes, and the consumer takes its next record only once this
 * one is running or waiting behind its session. A record is acknowledged once answered, and the
 * channel commits each partition up to its lowest record not yet acknowledged; one that cannot be
 * answered is nacked, and the channel's failure strategy writes it to the dead-letter topic with
 * its reason.
 */
@ApplicationScoped
public class RequestConsumer {

    private static final Logger LOG = Logger.getLogger(RequestConsumer.class);

    private final RequestHandler handler;
    private final Intakes intakes;

    public RequestConsumer(RequestHandler handler, Intakes intakes) {
        this.handler = handler;
        this.intakes = intakes;
    }

    @Incoming("requests-python")
    public CompletionStage<Void> python(KafkaRecord<String, byte[]> record) {
        return take(KnownRuntimes.PYTHON, record);
    }

    @Incoming("requests-julia")
    public CompletionStage<Void> julia(KafkaRecord<String, byte[]> record) {
        return take(KnownRuntimes.JULIA, record);
    }

    private CompletionStage<Void> take(String runtime, KafkaRecord<String, byte[]> record) {
        return intakes.keyed(runtime).take(record.getKey(), () -> handle(runtime, record));
    }

    private void handle(String runtime, KafkaRecord<String, byte[]> record) {
        Context received = TracingMetadata.fromMessage(record).map(TracingMetadata::getCurrentContext)
                .orElse(Context.root());
        Disposition disposition;
        try {
            disposition = handler.handle(runtime, new RequestRecord(record.getTopic(), record.getPartition(),
                    offset(record), record.getKey(), record.getPayload(), record.getTimestamp(), received,
                    OptionalInt.empty()));
        } catch (RuntimeException e) {
            LOG.errorf(e, "handling %s partition %d offset %d failed", record.getTopic(), record.getPartition(),
                    offset(record));
            record.nack(e);
            return;
        }
        if (disposition instanceof Disposition.DeadLettered dead) {
            record.nack(new RejectedRecordException(dead.reason()));
        } else {
            record.ack();
        }
    }

    private static long offset(KafkaRecord<String, byte[]> record) {
        return record.getMetadata(IncomingKafkaRecordMetadata.class).map(IncomingKafkaRecordMetadata::getOffset)
                .orElse(-1L);
    }
}
