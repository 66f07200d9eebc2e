package io.execfarm.worker.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.lang.management.ManagementFactory;
import java.util.List;
import javax.management.MBeanServer;
import javax.management.MalformedObjectNameException;
import javax.management.ObjectName;

/**
 * {@code execfarm_kafka_clients{kind}}: the Kafka clients open in this worker, as Kafka's own
 * clients register themselves ({@code kafka.<kind>:type=app-info,id=<client id>}), share consumers
 * and the connector's clients alike. Each one fetches, heartbeats or holds connections to the
 * brokers. (Each client's metrics add a second app-info bean, keyed {@code client-id}, not counted.)
 */
@ApplicationScoped
public class KafkaClients {

    private static final List<String> KINDS = List.of("consumer", "producer", "admin.client");

    private final MeterRegistry registry;
    private final MBeanServer beans = ManagementFactory.getPlatformMBeanServer();

    public KafkaClients(MeterRegistry registry) {
        this.registry = registry;
    }

    void register(@Observes StartupEvent event) {
        for (String kind : KINDS) {
            ObjectName pattern = pattern(kind);
            Gauge.builder("execfarm.kafka.clients", beans, server -> server.queryNames(pattern, null).size())
                    .description("Kafka clients open in this worker (consumers include share consumers)")
                    .tag("kind", kind.replace(".client", ""))
                    .register(registry);
        }
    }

    private static ObjectName pattern(String kind) {
        try {
            return new ObjectName("kafka." + kind + ":type=app-info,id=*");
        } catch (MalformedObjectNameException e) {
            throw new IllegalArgumentException(kind, e);
        }
    }
}
