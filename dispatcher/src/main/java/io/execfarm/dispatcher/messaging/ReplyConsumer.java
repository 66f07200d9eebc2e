package io.execfarm.dispatcher.messaging;

import io.execfarm.contracts.ExecutionEvent;
import io.execfarm.contracts.MalformedMessageException;
import io.execfarm.contracts.Output;
import io.execfarm.contracts.WireCodec;
import io.execfarm.dispatcher.events.ExecutionStore;
import io.execfarm.dispatcher.tenancy.InFlight;
import io.smallrye.mutiny.Uni;
import io.smallrye.reactive.messaging.kafka.KafkaRecord;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/**
 * Stores every event of the reply topic in Redis, once (all instances share one consumer group),
 * and releases a finished execution's in-flight slot.
 */
@ApplicationScoped
public class ReplyConsumer {

    private static final Logger LOG = Logger.getLogger(ReplyConsumer.class);

    private final WireCodec codec;
    private final ExecutionStore store;
    private final InFlight inFlight;

    public ReplyConsumer(WireCodec codec, ExecutionStore store, InFlight inFlight) {
        this.codec = codec;
        this.store = store;
        this.inFlight = inFlight;
    }

    @Incoming("replies")
    public Uni<Void> onEvent(KafkaRecord<String, byte[]> record) {
        ExecutionEvent event;
        try {
            event = codec.decodeEvent(record.getPayload());
        } catch (MalformedMessageException e) {
            LOG.warnf("skipping an unreadable event on %s: %s", record.getTopic(), e.getMessage());
            return Uni.createFrom().completionStage(record.ack());
        }
        String identity = event instanceof Output output ? "output:" + output.seq() : event.type();
        Uni<Void> stored = store.appendOnce(event.requestId(), identity,
                new String(record.getPayload(), StandardCharsets.UTF_8)).replaceWithVoid();
        if ("result".equals(event.type())) {
            stored = stored.chain(() -> store.find(event.requestId()))
                    .chain(execution -> execution == null ? Uni.createFrom().voidItem()
                            : inFlight.release(execution.tenant(), execution.id()));
        }
        // Redis briefly away: wait for it rather than lose an event that streams are waiting for.
        return stored.onFailure().invoke(failure -> LOG.warnf("storing an event of %s failed, retrying: %s",
                        event.requestId(), failure.getMessage()))
                .onFailure().retry().withBackOff(Duration.ofMillis(100), Duration.ofSeconds(5)).indefinitely()
                .chain(() -> Uni.createFrom().completionStage(record.ack()));
    }
}
