package io.execfarm.examples.quarkus;

import io.execfarm.client.EventOrder;
import io.execfarm.contracts.ExecutionEvent;
import io.execfarm.contracts.ExecutionRequest;
import io.execfarm.contracts.MalformedMessageException;
import io.execfarm.contracts.Result;
import io.execfarm.contracts.WireCodec;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.operators.multi.processors.UnicastProcessor;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.eclipse.microprofile.reactive.messaging.Message;

/**
 * The farm through two SmallRye channels: {@code farm-requests} (the tenant's ingress topic) and
 * {@code farm-events} (its reply topic). The client library's {@link WireCodec} writes requests and
 * reads events, and its {@link EventOrder} puts each execution's events in order without duplicates;
 * each execution's events leave as a {@link Multi} that ends with its result.
 */
@ApplicationScoped
public class FarmChannels {

    private record Followed(EventOrder order, UnicastProcessor<ExecutionEvent> events) {
    }

    private final WireCodec codec = new WireCodec();
    private final Map<String, Followed> followed = new ConcurrentHashMap<>();
    private final Emitter<byte[]> requests;

    public FarmChannels(@Channel("farm-requests") Emitter<byte[]> requests) {
        this.requests = requests;
    }

    /** Sends the request; its events, in order, ending with its result. */
    public Multi<ExecutionEvent> submit(ExecutionRequest request) {
        UnicastProcessor<ExecutionEvent> events = UnicastProcessor.create();
        followed.put(request.id(), new Followed(new EventOrder(), events));
        requests.send(Message.of(codec.encode(request)).addMetadata(OutgoingKafkaRecordMetadata.<String>builder()
                .withKey(request.kafkaKey()).build()));
        return events.onTermination().invoke(() -> followed.remove(request.id()));
    }

    /** Every record of the reply topic: events of requests this application did not send are skipped. */
    @Incoming("farm-events")
    public void event(ConsumerRecord<String, byte[]> record) {
        Followed execution = record.key() == null ? null : followed.get(record.key());
        if (execution == null) {
            return;
        }
        ExecutionEvent event;
        try {
            event = codec.decodeEvent(record.value());
        } catch (MalformedMessageException e) {
            return;
        }
        for (ExecutionEvent next : execution.order().accept(event)) {
            execution.events().onNext(next);
            if (next instanceof Result) {
                execution.events().onComplete();
            }
        }
    }
}
