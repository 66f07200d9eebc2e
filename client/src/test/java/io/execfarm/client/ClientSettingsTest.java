package io.execfarm.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class ClientSettingsTest {

    private static final Map<String, String> TENANT = Map.of("EXECFARM_TENANT", "acme", "KAFKA_BOOTSTRAP",
            "127.0.0.1:9092", "KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT", "KAFKA_SASL_MECHANISM", "SCRAM-SHA-512",
            "KAFKA_USERNAME", "tenant-acme", "KAFKA_PASSWORD", "s3cret-pw");

    @Test
    void aTenantsEnvironmentMakesItsIngressSettingsWithItsScramLogin() {
        ClientSettings settings = ClientSettings.fromEnvironment(TENANT);
        assertEquals(ClientSettings.Route.INGRESS, settings.route());
        assertEquals("execfarm.tenant.acme.replies", settings.replyTopic());
        assertEquals("SCRAM-SHA-512", settings.kafka().get("sasl.mechanism"));
        assertTrue(settings.kafka().get("sasl.jaas.config").toString().contains("password=\"s3cret-pw\""));
    }

    @Test
    void printedSettingsHideTheLogin() {
        assertFalse(ClientSettings.fromEnvironment(TENANT).toString().contains("s3cret-pw"));
    }

    @Test
    void whatIsMissingIsNamed() {
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> ClientSettings.fromEnvironment(Map.of("KAFKA_BOOTSTRAP", "127.0.0.1:9092")));
        assertEquals("EXECFARM_TENANT is not set", missing.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ClientSettings.direct("acme", Map.of()),
                "no bootstrap.servers");
        ClientSettings acme = ClientSettings.tenant("acme", Map.of("bootstrap.servers", "x"));
        assertThrows(IllegalArgumentException.class, () -> acme.withReplyTopic("execfarm.control"));
    }
}
