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
 * answered is written to the dead-letter topic with its reason ({@link DeadLetters}, as the share
 * consumers write theirs) and then acknowledged. A dead letter that cannot be written nacks the
 * record, and the channel's failure strategy ({@code fail}) stops the channel: the worker turns not
 * ready rather than lose the record.
 */
@ApplicationScoped
public class RequestConsumer {

    private static final Logger LOG = Logger.getLogger(RequestConsumer.class);

    private final RequestHandler handler;
    private final Intakes intakes;
    private final DeadLetters deadLetters;

    public RequestConsumer(RequestHandler handler, Intakes intakes, DeadLetters deadLetters) {
        this.handler = handler;
        this.intakes = intakes;
        this.deadLetters = deadLetters;
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
        long offset = offset(record);
        Disposition disposition;
        try {
            disposition = handler.handle(runtime, new RequestRecord(record.getTopic(), record.getPartition(),
                    offset, record.getKey(), record.getPayload(), record.getTimestamp(), received,
                    OptionalInt.empty()));
        } catch (RuntimeException e) {
            LOG.errorf(e, "handling %s partition %d offset %d failed", record.getTopic(), record.getPartition(),
                    offset);
            disposition = new Disposition.DeadLettered("the worker failed to handle it: " + e);
        }
        if (disposition instanceof Disposition.DeadLettered dead) {
            try {
                deadLetters.send(record, offset, dead.reason()).await().atMost(DeadLetters.WRITE_TIMEOUT);
            } catch (RuntimeException e) {
                LOG.errorf("could not write %s partition %d offset %d to the dead-letter topic: %s", record.getTopic(),
                        record.getPartition(), offset, e.toString());
                record.nack(new RejectedRecordException(dead.reason() + "; its dead letter failed: " + e));
                return;
            }
        }
        record.ack();
    }

    private static long offset(KafkaRecord<String, byte[]> record) {
        return record.getMetadata(IncomingKafkaRecordMetadata.class).map(IncomingKafkaRecordMetadata::getOffset)
                .orElse(-1L);
    }
}
