package io.execfarm.dispatcher.messaging;

import io.execfarm.contracts.Display;
import io.execfarm.contracts.ExecutionEvent;
import io.execfarm.contracts.MalformedMessageException;
import io.execfarm.contracts.Output;
import io.execfarm.contracts.WireCodec;
import io.execfarm.dispatcher.config.DispatcherConfig;
import io.execfarm.dispatcher.events.EventNotifier;
import io.execfarm.dispatcher.events.ExecutionStore;
import io.execfarm.dispatcher.events.IndexedEvent;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.smallrye.mutiny.Uni;
import io.smallrye.reactive.messaging.kafka.KafkaRecord;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/**
 * Stores every event of the reply topic in Redis, once (all instances share one consumer group),
 * releasing a finished execution's in-flight slot in the same step, and hands each stored event to
 * this instance's streams of that execution directly (those of other instances wake by pub/sub).
 */
@ApplicationScoped
public class ReplyConsumer {

    private static final Logger LOG = Logger.getLogger(ReplyConsumer.class);

    private final WireCodec codec;
    private final ExecutionStore store;
    private final EventNotifier notifier;
    private final Duration giveUpAfter;
    private final Counter dropped;

    public ReplyConsumer(WireCodec codec, ExecutionStore store, EventNotifier notifier, DispatcherConfig config,
            MeterRegistry registry) {
        this.codec = codec;
        this.store = store;
        this.notifier = notifier;
        this.giveUpAfter = config.replyStoreGiveUpAfter();
        this.dropped = Counter.builder("execfarm.events.dropped")
                .description("Events of the reply topic dropped because Redis would not store them in time")
                .register(registry);
    }

    /** What makes an event the one it is, for storing it once: output chunks and display bundles share one numbering. */
    private static String identity(ExecutionEvent event) {
        if (event instanceof Output output) {
            return "output:" + output.seq();
        }
        return event instanceof Display display ? "output:" + display.seq() : event.type();
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
        String identity = identity(event);
        String json = new String(record.getPayload(), StandardCharsets.UTF_8);
        Uni<Void> stored = store.appendOnce(event.requestId(), identity, json, "result".equals(event.type()))
                .invoke(index -> {
                    if (index >= 0) {
                        notifier.deliver(event.requestId(), new IndexedEvent(index, event.type(), json));
                    }
                })
                .replaceWithVoid();
        // Redis briefly away: wait for it rather than lose an event that streams are waiting for; but
        // not forever, which would hold every later event of the partition, other executions' too.
        return stored.onFailure().invoke(failure -> LOG.warnf("storing an event of %s failed, retrying: %s",
                        event.requestId(), failure.getMessage()))
                .onFailure().retry().withBackOff(Duration.ofMillis(100), Duration.ofSeconds(5))
                .expireIn(giveUpAfter.toMillis())
                .onFailure().recoverWithItem(failure -> {
                    dropped.increment();
                    LOG.errorf("dropped the %s event of %s: Redis would not store it for %s (%s); its streams get no "
                            + "more events, and ?wait=true answers 504", identity, event.requestId(), giveUpAfter,
                            failure.toString());
                    return null;
                })
                .chain(() -> Uni.createFrom().completionStage(record.ack()));
    }
}
