package io.execfarm.accounts;

import static io.execfarm.accounts.BrokerAccess.allow;
import static org.apache.kafka.common.acl.AclOperation.ALTER_CONFIGS;
import static org.apache.kafka.common.acl.AclOperation.CREATE;
import static org.apache.kafka.common.acl.AclOperation.DESCRIBE;
import static org.apache.kafka.common.acl.AclOperation.DESCRIBE_CONFIGS;
import static org.apache.kafka.common.acl.AclOperation.READ;
import static org.apache.kafka.common.acl.AclOperation.WRITE;
import static org.apache.kafka.common.resource.PatternType.LITERAL;
import static org.apache.kafka.common.resource.PatternType.PREFIXED;
import static org.apache.kafka.common.resource.ResourceType.GROUP;
import static org.apache.kafka.common.resource.ResourceType.TOPIC;

import io.execfarm.contracts.Topics;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.common.acl.AclBinding;

/**
 * The farm's own users on a broker that authorizes by ACL: the dispatcher, the workers and the
 * workers' scaler, each a SCRAM user of its own holding only the rights it uses. The broker's admin
 * creates them.
 */
public final class KafkaAccounts {

    /** A service of the farm and its Kafka user. */
    public enum Service {
        DISPATCHER("execfarm-dispatcher"),
        WORKER("execfarm-worker"),
        /** Whoever scales the workers on their groups' lag (KEDA in deploy/k8s): it reads offsets, no record. */
        SCALER("execfarm-scaler");

        private final String user;

        Service(String user) {
            this.user = user;
        }

        public String user() {
            return user;
        }
    }

    private KafkaAccounts() {
    }

    /**
     * What each service does on Kafka. The dispatcher publishes requests and cancels, follows the
     * replies topic in its group, looks at the workers' groups to tell which runtimes are served,
     * and forwards tenants' requests from their ingress topics, answering those it refuses on the
     * tenant's reply topic (IngressForwarder); it reads no tenant's results. A worker creates the
     * farm's topics when absent and configures its share groups, consumes requests (its consumer
     * and share groups) and cancels, and writes events to the replies topic, to tenants' reply
     * topics, and refused requests to the dead letters. It reads a reply topic too, without a
     * group, when a request comes again whose stored result it cannot tell was published
     * (PublishedResults), and describes each reply topic's configuration (ReplyTopicLimits). The
     * scaler reads the workers' groups' offsets and the request topics' ends.
     */
    static List<AclBinding> grants(Service service) {
        // The groups are named in the applications' configuration (group.id) and SharedRequestConsumer.
        String user = service.user();
        List<AclBinding> grants = new ArrayList<>();
        switch (service) {
            case DISPATCHER -> {
                allow(grants, user, TOPIC, PREFIXED, Topics.REQUESTS_PREFIX, WRITE, DESCRIBE);
                allow(grants, user, TOPIC, LITERAL, Topics.CONTROL, WRITE, DESCRIBE);
                allow(grants, user, TOPIC, LITERAL, Topics.REPLIES, READ, DESCRIBE);
                allow(grants, user, GROUP, LITERAL, "execfarm-dispatchers", READ);
                allow(grants, user, GROUP, PREFIXED, "execfarm-workers-", DESCRIBE);
                allow(grants, user, TOPIC, PREFIXED, Topics.INGRESS_PREFIX, READ, DESCRIBE);
                allow(grants, user, GROUP, LITERAL, Topics.INGRESS_GROUP, READ);
                allow(grants, user, TOPIC, PREFIXED, Topics.TENANT_PREFIX, WRITE, DESCRIBE);
            }
            case SCALER -> {
                allow(grants, user, TOPIC, PREFIXED, Topics.REQUESTS_PREFIX, DESCRIBE);
                allow(grants, user, GROUP, PREFIXED, "execfarm-workers-", DESCRIBE);
            }
            case WORKER -> {
                allow(grants, user, TOPIC, PREFIXED, Topics.REQUESTS_PREFIX, READ, DESCRIBE, CREATE);
                allow(grants, user, TOPIC, LITERAL, Topics.DEAD_LETTERS, WRITE);
                allow(grants, user, TOPIC, LITERAL, Topics.CONTROL, READ, DESCRIBE, CREATE);
                allow(grants, user, TOPIC, LITERAL, Topics.REPLIES, WRITE, READ, DESCRIBE, DESCRIBE_CONFIGS, CREATE);
                allow(grants, user, TOPIC, PREFIXED, Topics.TENANT_PREFIX, WRITE, READ, DESCRIBE, DESCRIBE_CONFIGS, CREATE);
                allow(grants, user, GROUP, PREFIXED, "execfarm-workers-", READ);
                allow(grants, user, GROUP, PREFIXED, "execfarm-control-", READ);
                allow(grants, user, GROUP, PREFIXED, "execfarm-shared-", READ, ALTER_CONFIGS);
            }
        }
        return grants;
    }

    /**
     * The services' passwords as deploy/local/infra prints them ({@code KAFKA_DISPATCHER_PASSWORD},
     * {@code KAFKA_WORKER_PASSWORD}); a new one for each it does not name.
     */
    public static Map<Service, String> servicePasswords(Map<String, String> env) {
        Map<Service, String> passwords = new EnumMap<>(Service.class);
        for (Service service : Service.values()) {
            passwords.put(service, Optional.ofNullable(env.get(passwordVariable(service))).orElseGet(Passwords::generate));
        }
        return passwords;
    }

    /** A service's login from deploy/local/infra's output, or a farm's environment, which keeps it. */
    public static KafkaLogin login(Service service, Map<String, String> env) {
        if (KafkaLogin.isOpen(env)) {
            return KafkaLogin.open(env.get("KAFKA_BOOTSTRAP"));
        }
        String password = env.get(passwordVariable(service));
        if (password == null) {
            throw new IllegalArgumentException("no " + passwordVariable(service) + " among " + env.keySet());
        }
        return KafkaLogin.scram(env.get("KAFKA_BOOTSTRAP"), service.user(), password);
    }

    public static String passwordVariable(Service service) {
        return "KAFKA_" + service.name() + "_PASSWORD";
    }

    /**
     * Creates (or updates) each service's user with its password and grants it its rights, as the
     * admin; returns once every service can log in and the broker enforces every grant. On a
     * broker started {@code --open} there is nobody to create: every service connects as anyone.
     */
    public static Map<Service, KafkaLogin> provision(KafkaLogin admin, Map<Service, String> passwords) {
        Map<Service, KafkaLogin> logins = new EnumMap<>(Service.class);
        if (admin.isOpen()) {
            passwords.keySet().forEach(service -> logins.put(service, admin));
            return logins;
        }
        List<UserScramCredentialUpsertion> users = new ArrayList<>();
        List<AclBinding> grants = new ArrayList<>();
        passwords.forEach((service, password) -> {
            users.add(BrokerAccess.user(service.user(), password));
            grants.addAll(grants(service));
            logins.put(service, KafkaLogin.scram(admin.bootstrap(), service.user(), password));
        });
        try (Admin kafka = Admin.create(admin.clientSettings())) {
            BrokerAccess.grant(kafka, users, grants);
        } catch (ExecutionException | InterruptedException | TimeoutException e) {
            throw BrokerAccess.failed("create the farm's Kafka users and grants as " + admin, e);
        }
        logins.values().forEach(BrokerAccess::awaitLogin);
        return logins;
    }
}
