package io.execfarm.localinfra;

import io.execfarm.accounts.KafkaAccounts;
import io.execfarm.accounts.KafkaLogin;
import java.time.Duration;

/**
 * A real Kafka broker and Redis for integration tests: containers ({@link ContainerInfra}) or local
 * processes ({@link LocalInfra}), chosen by {@code EXECFARM_TEST_INFRA}:
 * <ul>
 *   <li>{@code auto} (the default): containers when a Docker engine answers and they start, else
 *   local processes (or the running pair {@link LocalInfra} is told to reuse);</li>
 *   <li>{@code containers}: containers, or the tests fail;</li>
 *   <li>{@code local}: local processes.</li>
 * </ul>
 * Whichever runs is announced on stderr and recorded in the checkout's
 * {@code target/test-infra.txt}, a line per start, so a build can say what each suite ran on.
 */
public interface TestInfra extends AutoCloseable {

    String CHOICE = "EXECFARM_TEST_INFRA";

    /** The parts that can be frozen or restarted to simulate an outage. */
    enum Component { KAFKA, REDIS }

    default String kafkaBootstrap() {
        return kafkaAdmin().bootstrap();
    }

    /** The broker's super user: for tests that set up topics, read anything, or act as a tenant would. */
    KafkaLogin kafkaAdmin();

    /** The login of one of the farm's services, holding only that service's rights. */
    KafkaLogin kafkaLogin(KafkaAccounts.Service service);

    /** One Redis URL, or for a Redis Cluster ({@link #redisCluster}) some of its nodes', comma-separated. */
    String redisUrl();

    /** Whether Redis is a Redis Cluster (a client must run in cluster mode) rather than one server. */
    default boolean redisCluster() {
        return false;
    }

    /** Whether this pair was started here, so it can be paused and restarted. */
    boolean owned();

    /**
     * Freezes a component for {@code duration}, then lets it go on: to clients it is unreachable
     * meanwhile, and nothing it holds is lost. Returns at once; the resume happens in the background.
     */
    void pause(Component component, Duration duration);

    /**
     * Stops a component for real (killed when {@code kill}, else asked to stop), leaves it down for
     * {@code downFor}, and starts it again at the same address with its data; returns once it serves.
     */
    void restart(Component component, Duration downFor, boolean kill);

    /** What runs, for people reading a build log: "containers (Kafka image ..., ...)" or "local processes". */
    String description();

    @Override
    void close();

    /** Starts the pair {@code EXECFARM_TEST_INFRA} chooses, and says which. */
    static TestInfra start() {
        InfraChoice choice = InfraChoice.parse(System.getenv(CHOICE));
        TestInfra infra = switch (choice) {
            case LOCAL -> LocalInfra.startOrReuse();
            case CONTAINERS -> ContainerInfra.start();
            case AUTO -> !LocalInfra.reuseRequested() && ContainerInfra.engineAnswers()
                    ? containersElseLocal() : LocalInfra.startOrReuse();
        };
        InfraRecord.announce(choice, infra);
        return infra;
    }

    /** An engine that answers may still lack the images (none pulled, no stand-ins built). */
    private static TestInfra containersElseLocal() {
        try {
            return ContainerInfra.start();
        } catch (RuntimeException e) {
            System.err.println("execfarm tests: the containers could not start (" + e.getMessage() + "); local processes "
                    + "instead. " + CHOICE + "=containers makes this an error; deploy/containers/engine up builds "
                    + "the images where no registry serves them.");
            return LocalInfra.startOrReuse();
        }
    }
}
