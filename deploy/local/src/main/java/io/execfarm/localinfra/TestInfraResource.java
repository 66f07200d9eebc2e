package io.execfarm.localinfra;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.util.Map;

/**
 * Gives a Quarkus test application a real Kafka broker and Redis ({@link TestInfra}: containers or
 * local processes), with Dev Services out of the picture.
 */
public class TestInfraResource implements QuarkusTestResourceLifecycleManager {

    private TestInfra infra;

    @Override
    public Map<String, String> start() {
        infra = TestInfra.start();
        return Map.of(
                "kafka.bootstrap.servers", infra.kafkaBootstrap(),
                "quarkus.redis.hosts", infra.redisUrl(),
                "quarkus.devservices.enabled", "false");
    }

    @Override
    public void inject(TestInjector injector) {
        injector.injectIntoFields(infra,
                new TestInjector.AnnotatedAndMatchesType(InjectTestInfra.class, TestInfra.class));
    }

    @Override
    public void stop() {
        if (infra != null) {
            infra.close();
        }
    }
}
