package io.execfarm.worker.messaging;

import io.opentelemetry.context.Context;
import java.time.Instant;
import java.util.OptionalInt;

/**
 * One delivery of a request record, whichever consumer took it: a partition-ordered consumer group
 * ({@link RequestConsumer}) or a share group ({@link SharedRequestConsumer}).
 *
 * @param sender        the context of the trace the record carries (its sender's, or the connector's
 *                      receive span), the root context where none
 * @param deliveryCount the broker's count of deliveries of this record, where the broker counts
 *                      them (share groups); empty for a consumer group, whose deliveries Redis counts
 */
public record RequestRecord(String topic, int partition, long offset, String key, byte[] payload, Instant timestamp,
        Context sender, OptionalInt deliveryCount) {

    /** What became of a record: answered (its result published, or published before), or dead-lettered. */
    public sealed interface Disposition {

        Disposition ANSWERED = new Answered();

        record Answered() implements Disposition {
        }

        /** Not answered: the record goes to the dead-letter topic, with the reason as its header. */
        record DeadLettered(String reason) implements Disposition {
        }
    }
}
