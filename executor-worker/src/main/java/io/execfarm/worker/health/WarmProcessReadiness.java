package io.execfarm.worker.health;

import io.execfarm.worker.pool.PoolStats;
import io.execfarm.worker.pool.Pools;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Map;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

/** Ready when every runtime this worker serves has at least one warm process (idle or busy). */
@Readiness
@ApplicationScoped
public class WarmProcessReadiness implements HealthCheck {

    private final Pools pools;

    public WarmProcessReadiness(Pools pools) {
        this.pools = pools;
    }

    @Override
    public HealthCheckResponse call() {
        Map<String, PoolStats> stats = pools.stats();
        HealthCheckResponseBuilder response = HealthCheckResponse.named("warm-processes");
        boolean up = !stats.isEmpty();
        for (Map.Entry<String, PoolStats> entry : stats.entrySet()) {
            PoolStats s = entry.getValue();
            int warm = s.idle() + s.busy();
            up &= warm > 0;
            response.withData(entry.getKey(), warm + " warm (" + s.idle() + " idle, " + s.busy() + " busy, "
                    + s.starting() + " starting)");
        }
        return response.status(up).build();
    }
}
