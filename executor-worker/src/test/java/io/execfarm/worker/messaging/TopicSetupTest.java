package io.execfarm.worker.messaging;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import org.junit.jupiter.api.Test;

class TopicSetupTest {

    @Test
    void theAdminClientTakesTheApplicationsSecuritySettingsAndNotTheConsumersOrProducers() {
        Map<String, Object> kafka = Map.of(
                "bootstrap.servers", "kafka-1:9093",
                "security.protocol", "SASL_SSL",
                "sasl.mechanism", "SCRAM-SHA-512",
                "sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required;",
                "ssl.truststore.location", "/etc/kafka/truststore.p12",
                "group.id", "execfarm-workers-python",
                "key.deserializer", "org.apache.kafka.common.serialization.StringDeserializer",
                "linger.ms", "0");
        assertEquals(Map.of(
                "bootstrap.servers", "kafka-1:9093",
                "security.protocol", "SASL_SSL",
                "sasl.mechanism", "SCRAM-SHA-512",
                "sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required;",
                "ssl.truststore.location", "/etc/kafka/truststore.p12"), TopicSetup.adminSettings(kafka));
    }
}
