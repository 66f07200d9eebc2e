package io.execfarm.worker.health;

import io.execfarm.worker.messaging.SharedRequestConsumer;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Map;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

/**
 * Not ready when a share consumer's loop has ended while the worker runs: its process would sit
 * idle while shared requests wait. The consumer group's consumers are reported by the connector's
 * own checks.
 */
@Readiness
@ApplicationScoped
public class ShareConsumersReadiness implements HealthCheck {

    private final SharedRequestConsumer consumers;

    public ShareConsumersReadiness(SharedRequestConsumer consumers) {
        this.consumers = consumers;
    }

    @Override
    public HealthCheckResponse call() {
        Map<String, String> dead = consumers.deadConsumers();
        HealthCheckResponseBuilder response = HealthCheckResponse.named("share-consumers");
        dead.forEach(response::withData);
        return response.status(dead.isEmpty()).build();
    }
}
