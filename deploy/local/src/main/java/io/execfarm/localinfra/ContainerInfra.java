package io.execfarm.localinfra;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.model.ExposedPort;
import com.github.dockerjava.api.model.PortBinding;
import com.github.dockerjava.api.model.Ports;
import io.execfarm.accounts.KafkaAccounts;
import io.execfarm.accounts.KafkaLogin;
import io.execfarm.accounts.Passwords;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.images.builder.Transferable;
import org.testcontainers.kafka.KafkaContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * Kafka and Redis in containers, by Testcontainers: Kafka through its Kafka module's
 * {@link KafkaContainer} on {@code apache/kafka}, or on the image {@code EXECFARM_KAFKA_IMAGE} names
 * (deploy/containers/engine builds {@code localhost/execfarm/kafka} where no registry serves the
 * official one, and it follows the same conventions), authenticating every client and granting by
 * ACL, its services' users made once it serves (KafkaAccounts); Redis on
 * {@code EXECFARM_REDIS_IMAGE}, else {@code redis:7.4-alpine}, with a password and an append-only
 * file, both as deploy/local/infra runs them.
 * <p>
 * Each container publishes its port on a free loopback port chosen here rather than by the engine,
 * so that a restarted container comes back at the address the application already holds. The
 * engine must be this machine's (a unix socket): ports are published on its loopback.
 */
public final class ContainerInfra implements TestInfra {

    static final String KAFKA_IMAGE = "EXECFARM_KAFKA_IMAGE";
    static final String REDIS_IMAGE = "EXECFARM_REDIS_IMAGE";
    private static final String OFFICIAL_KAFKA = "apache/kafka:" + brokerVersion();
    private static final String OFFICIAL_REDIS = "redis:7.4-alpine";
    /**
     * Where the containers' ports are published and reached. Testcontainers would use the engine's
     * gateway when it finds itself inside a container (this machine is one), where podman publishes
     * on the host's own addresses; the engine is this machine's, so its loopback is the address.
     */
    private static final String LOOPBACK = "127.0.0.1";
    private static final String REDIS_CONF = "/etc/execfarm-redis.conf";
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(120);

    private static final String KAFKA_JAAS = "/etc/kafka/execfarm-jaas.conf";

    private final KafkaContainer kafka;
    private final GenericContainer<?> redis;
    private final String redisPassword;
    private final KafkaLogin admin;
    private final Map<KafkaAccounts.Service, KafkaLogin> services;

    private ContainerInfra(KafkaContainer kafka, GenericContainer<?> redis, String redisPassword, KafkaLogin admin,
            Map<KafkaAccounts.Service, KafkaLogin> services) {
        this.kafka = kafka;
        this.redis = redis;
        this.redisPassword = redisPassword;
        this.admin = admin;
        this.services = services;
    }

    /** Whether a Docker engine answers (DOCKER_HOST, the default socket, or Testcontainers' settings). */
    static boolean engineAnswers() {
        return DockerClientFactory.instance().isDockerAvailable();
    }

    static ContainerInfra start() {
        String kafkaImage = System.getenv().getOrDefault(KAFKA_IMAGE, OFFICIAL_KAFKA);
        String redisImage = System.getenv().getOrDefault(REDIS_IMAGE, OFFICIAL_REDIS);
        String password = Passwords.generate();
        String adminPassword = Passwords.generate();
        KafkaContainer kafka = new LoopbackKafka(DockerImageName.parse(kafkaImage).asCompatibleSubstituteFor("apache/kafka"))
                .withEnv(authenticatedBroker())
                // The admin's password in a file, as Redis's below, not in the container's environment.
                .withCopyToContainer(Transferable.of(jaas(adminPassword), 0644), KAFKA_JAAS)
                .withEnv("KAFKA_MESSAGE_MAX_BYTES", "9437184")
                // Share groups keep their state in a topic of their own, which a single broker can
                // hold only with one replica; see deploy/local/infra for the delivery limit.
                .withEnv("KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR", "1")
                .withEnv("KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR", "1")
                .withEnv("KAFKA_GROUP_SHARE_DELIVERY_COUNT_LIMIT", "10")
                .withEnv("KAFKA_GROUP_SHARE_MIN_RECORD_LOCK_DURATION_MS", "1000")
                // C1 only: a test's broker lives minutes and restarts often; C2 cost more CPU than it gave back.
                .withEnv("KAFKA_JVM_PERFORMANCE_OPTS", "-XX:+UseG1GC -XX:TieredStopAtLevel=1")
                .withLabel("io.execfarm.test", "kafka")
                .withStartupTimeout(READY_TIMEOUT);
        publishOnFreePort(kafka, 9092);
        GenericContainer<?> redis = new LoopbackContainer(DockerImageName.parse(redisImage))
                .withExposedPorts(6379)
                // The password in a file, not on a command line every process of the host can read (0644: the
                // official image runs redis-server as its own user).
                .withCopyToContainer(Transferable.of("requirepass " + password + "\nappendonly yes\nappendfsync everysec\n"
                        + "save \"\"\ndir /data\nprotected-mode no\n", 0644), REDIS_CONF)
                .withCommand("redis-server", REDIS_CONF)
                .withLabel("io.execfarm.test", "redis")
                .waitingFor(Wait.forLogMessage(".*Ready to accept connections.*", 1))
                .withStartupTimeout(READY_TIMEOUT);
        publishOnFreePort(redis, 6379);
        try {
            kafka.start();
            redis.start();
        } catch (RuntimeException e) {
            kafka.stop();
            redis.stop();
            throw e;
        }
        KafkaLogin admin = KafkaLogin.admin(kafka.getBootstrapServers(), adminPassword);
        try {
            return new ContainerInfra(kafka, redis, password, admin,
                    KafkaAccounts.provision(admin, KafkaAccounts.servicePasswords(Map.of())));
        } catch (RuntimeException e) {
            kafka.stop();
            redis.stop();
            throw e;
        }
    }

    /**
     * SASL on each of the Testcontainers broker's listeners (its clients' PLAINTEXT, its BROKER and
     * CONTROLLER) and ACLs as deploy/local/infra configures them: see there.
     */
    private static Map<String, String> authenticatedBroker() {
        return Map.of(
                "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP", "BROKER:SASL_PLAINTEXT,PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT",
                "KAFKA_SASL_ENABLED_MECHANISMS", "PLAIN,SCRAM-SHA-512",
                "KAFKA_LISTENER_NAME_CONTROLLER_SASL_ENABLED_MECHANISMS", "PLAIN",
                "KAFKA_SASL_MECHANISM_INTER_BROKER_PROTOCOL", "PLAIN",
                "KAFKA_SASL_MECHANISM_CONTROLLER_PROTOCOL", "PLAIN",
                "KAFKA_AUTHORIZER_CLASS_NAME", "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
                "KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND", "false",
                "KAFKA_SUPER_USERS", "User:" + KafkaLogin.ADMIN,
                "KAFKA_OPTS", "-Djava.security.auth.login.config=" + KAFKA_JAAS);
    }

    /** The broker's login section: the admin, for PLAIN (the broker's own connections log in as it), and SCRAM's users. */
    private static String jaas(String adminPassword) {
        return "KafkaServer {\n"
                + "  org.apache.kafka.common.security.plain.PlainLoginModule required username=\"" + KafkaLogin.ADMIN
                + "\" password=\"" + adminPassword + "\" user_" + KafkaLogin.ADMIN + "=\"" + adminPassword + "\";\n"
                + "  org.apache.kafka.common.security.scram.ScramLoginModule required;\n"
                + "};\n";
    }

    @Override
    public KafkaLogin kafkaAdmin() {
        return admin;
    }

    @Override
    public KafkaLogin kafkaLogin(KafkaAccounts.Service service) {
        return services.get(service);
    }

    @Override
    public String redisUrl() {
        return "redis://:" + redisPassword + "@" + LOOPBACK + ":" + redis.getMappedPort(6379);
    }

    @Override
    public boolean owned() {
        return true;
    }

    @Override
    public void pause(Component component, Duration duration) {
        String id = container(component).getContainerId();
        DockerClient docker = DockerClientFactory.instance().client();
        docker.pauseContainerCmd(id).exec();
        Resume.after(duration, "execfarm-unpause-" + component, () -> docker.unpauseContainerCmd(id).exec());
    }

    @Override
    public void restart(Component component, Duration downFor, boolean kill) {
        GenericContainer<?> container = container(component);
        String readyLine = component == Component.KAFKA ? "Transitioning from RECOVERY to RUNNING" : "Ready to accept connections";
        long readyBefore = occurrences(container.getLogs(), readyLine);
        DockerClient docker = DockerClientFactory.instance().client();
        if (kill) {
            docker.killContainerCmd(container.getContainerId()).exec();
        } else if (component == Component.KAFKA) {
            stopBroker(container, docker);
        } else {
            docker.stopContainerCmd(container.getContainerId()).withTimeout(30).exec();
        }
        sleep(downFor);
        docker.startContainerCmd(container.getContainerId()).exec();
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        while (occurrences(container.getLogs(), readyLine) <= readyBefore) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(component + " did not serve again within " + READY_TIMEOUT.toSeconds()
                        + " s of its restart; its log ends:\n" + tail(container.getLogs(), 30));
            }
            sleep(Duration.ofMillis(200));
        }
    }

    /**
     * SIGTERM to the broker's JVM, as a stop would send it, then waits for the container to exit.
     * Testcontainers starts Kafka under a shell that stays PID 1, where SIGTERM does nothing: `docker
     * stop` waited out its whole timeout and then killed the broker, so a test's "stop" was a kill
     * 30 s late.
     */
    private static void stopBroker(GenericContainer<?> container, DockerClient docker) {
        try {
            container.execInContainer("sh", "-c",
                    "for p in /proc/[0-9]*; do [ \"$(cat $p/comm 2>/dev/null)\" = java ] && kill -TERM ${p#/proc/}; done");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (Boolean.TRUE.equals(docker.inspectContainerCmd(container.getContainerId()).exec().getState().getRunning())) {
            if (System.nanoTime() > deadline) {
                docker.killContainerCmd(container.getContainerId()).exec();
                throw new IllegalStateException("the broker had not stopped 60 s after SIGTERM; killed it");
            }
            sleep(Duration.ofMillis(200));
        }
    }

    @Override
    public String description() {
        return "containers (Testcontainers; Kafka " + kafka.getDockerImageName() + " at " + kafkaBootstrap()
                + ", Redis " + redis.getDockerImageName() + " on port " + redis.getMappedPort(6379) + ")";
    }

    @Override
    public void close() {
        kafka.stop();
        redis.stop();
    }

    private GenericContainer<?> container(Component component) {
        return component == Component.KAFKA ? kafka : redis;
    }

    private static void publishOnFreePort(GenericContainer<?> container, int port) {
        int hostPort = freePort();
        container.withCreateContainerCmdModifier(create -> create.getHostConfig().withPortBindings(
                new PortBinding(Ports.Binding.bindIpAndPort(LOOPBACK, hostPort), new ExposedPort(port))));
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String tail(String log, int lines) {
        List<String> all = log.lines().toList();
        return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    }

    private static long occurrences(String text, String line) {
        return text.lines().filter(l -> l.contains(line)).count();
    }

    private static void sleep(Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The broker version the build runs (kafka.broker.version), which the official image's tag follows. */
    private static String brokerVersion() {
        return System.getProperty("execfarm.kafka.version", "4.2.2");
    }

    private static final class LoopbackKafka extends KafkaContainer {
        LoopbackKafka(DockerImageName image) {
            super(image);
        }

        @Override
        public String getHost() {
            return LOOPBACK;
        }
    }

    private static final class LoopbackContainer extends GenericContainer<LoopbackContainer> {
        LoopbackContainer(DockerImageName image) {
            super(image);
        }

        @Override
        public String getHost() {
            return LOOPBACK;
        }
    }
}
