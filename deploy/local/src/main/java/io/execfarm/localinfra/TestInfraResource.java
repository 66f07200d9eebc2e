package io.execfarm.localinfra;

import io.execfarm.accounts.KafkaAccounts;
import io.execfarm.accounts.KafkaLogin;
import io.execfarm.accounts.RepliesTopic;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.util.HashMap;
import java.util.Map;

/**
 * Gives a Quarkus test application a real Kafka broker and Redis ({@link TestInfra}: containers or
 * local processes), with Dev Services out of the picture. The application logs in to Kafka as the
 * service it is ({@link AsWorker}, {@link AsDispatcher}), with that service's rights alone, as in
 * production; the test itself gets the infrastructure ({@link InjectTestInfra}) and its admin.
 */
public abstract class TestInfraResource implements QuarkusTestResourceLifecycleManager {

    private final KafkaAccounts.Service service;
    private final boolean cluster;
    private TestInfra infra;

    TestInfraResource(KafkaAccounts.Service service) {
        this(service, false);
    }

    TestInfraResource(KafkaAccounts.Service service, boolean cluster) {
        this.service = service;
        this.cluster = cluster;
    }

    /** For the worker's tests. */
    public static final class AsWorker extends TestInfraResource {
        public AsWorker() {
            super(KafkaAccounts.Service.WORKER);
        }
    }

    /**
     * For the worker's tests on three brokers and a Redis Cluster ({@link LocalInfra#startCluster}:
     * local processes wherever the tests run), with the worker's writes that must outlive a failover
     * confirmed by a replica.
     */
    public static final class AsWorkerOnCluster extends TestInfraResource {
        public AsWorkerOnCluster() {
            super(KafkaAccounts.Service.WORKER, true);
        }
    }

    /** For the dispatcher's tests. */
    public static final class AsDispatcher extends TestInfraResource {
        public AsDispatcher() {
            super(KafkaAccounts.Service.DISPATCHER);
        }
    }

    /** For the dispatcher's tests on three brokers and a Redis Cluster, as {@link AsWorkerOnCluster}. */
    public static final class AsDispatcherOnCluster extends TestInfraResource {
        public AsDispatcherOnCluster() {
            super(KafkaAccounts.Service.DISPATCHER, true);
        }
    }

    @Override
    public Map<String, String> start() {
        infra = cluster ? LocalInfra.startCluster() : TestInfra.start();
        if (cluster) {
            InfraRecord.announce(InfraChoice.LOCAL, infra);
        }
        if (service == KafkaAccounts.Service.DISPATCHER) {
            // A farm's setup makes it before its dispatcher starts (compose's and Kubernetes' kafka-setup).
            RepliesTopic.ensure(infra.kafkaAdmin());
        }
        KafkaLogin login = infra.kafkaLogin(service);
        Map<String, String> config = new HashMap<>();
        login.securitySettings().forEach((name, value) -> config.put("kafka." + name, value));
        config.put("kafka.bootstrap.servers", login.bootstrap());
        config.put("quarkus.redis.hosts", infra.redisUrl());
        if (infra.redisCluster()) {
            config.put("quarkus.redis.client-type", "cluster");
            if (service == KafkaAccounts.Service.WORKER) {
                config.put("execfarm.worker.replicated-writes.replicas", "1");
            }
        }
        config.put("quarkus.devservices.enabled", "false");
        return config;
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
