package io.execfarm.localinfra;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.util.Map;

/**
 * Gives a Quarkus test application a real Kafka broker and redis-server (see {@link LocalInfra}),
 * with Dev Services' containers out of the picture.
 */
public class LocalInfraTestResource implements QuarkusTestResourceLifecycleManager {

    private LocalInfra infra;

    @Override
    public Map<String, String> start() {
        infra = LocalInfra.startOrReuse();
        return Map.of(
                "kafka.bootstrap.servers", infra.kafkaBootstrap(),
                "quarkus.redis.hosts", infra.redisUrl(),
                "quarkus.devservices.enabled", "false");
    }

    @Override
    public void inject(TestInjector injector) {
        injector.injectIntoFields(infra,
                new TestInjector.AnnotatedAndMatchesType(InjectLocalInfra.class, LocalInfra.class));
    }

    @Override
    public void stop() {
        if (infra != null) {
            infra.close();
        }
    }
}
