package io.execfarm.accounts;

import io.execfarm.contracts.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

/**
 * The farm's own users on a broker that authorizes by ACL: the dispatcher and the workers, each a
 * SCRAM user of its own holding only the rights it uses. The broker's admin creates them.
 */
public final class KafkaAccounts {

    /** A service of the farm and its Kafka user. */
    public enum Service {
        DISPATCHER("execfarm-dispatcher"),
        WORKER("execfarm-worker");

        private final String user;

        Service(String user) {
            this.user = user;
        }

        public String user() {
            return user;
        }
    }

    /** Kafka's minimum for SCRAM-SHA-512: each login costs a service this many hash rounds. */
    private static final int SCRAM_ITERATIONS = 4096;
    private static final Duration SETTLE = Duration.ofSeconds(30);

    private KafkaAccounts() {
    }

    /**
     * What each service does on Kafka. The dispatcher publishes requests and cancels, follows the
     * replies topic in its group, and looks at the workers' groups to tell which runtimes are
     * served. A worker creates the farm's topics when absent and configures its share groups,
     * consumes requests (its consumer and share groups) and cancels, and writes events to the
     * replies topic, to tenants' reply topics, and refused requests to the dead letters. It reads a
     * reply topic too, without a group, when a request comes again whose stored result it cannot
     * tell was published (PublishedResults).
     */
    static List<AclBinding> grants(Service service) {
        // The groups are named in the applications' configuration (group.id) and SharedRequestConsumer.
        String user = "User:" + service.user();
        List<AclBinding> grants = new ArrayList<>();
        switch (service) {
            case DISPATCHER -> {
                allow(grants, user, ResourceType.TOPIC, PatternType.PREFIXED, Topics.REQUESTS_PREFIX, AclOperation.WRITE, AclOperation.DESCRIBE);
                allow(grants, user, ResourceType.TOPIC, PatternType.LITERAL, Topics.CONTROL, AclOperation.WRITE, AclOperation.DESCRIBE);
                allow(grants, user, ResourceType.TOPIC, PatternType.LITERAL, Topics.REPLIES, AclOperation.READ, AclOperation.DESCRIBE);
                allow(grants, user, ResourceType.GROUP, PatternType.LITERAL, "execfarm-dispatchers", AclOperation.READ);
                allow(grants, user, ResourceType.GROUP, PatternType.PREFIXED, "execfarm-workers-", AclOperation.DESCRIBE);
            }
            case WORKER -> {
                allow(grants, user, ResourceType.TOPIC, PatternType.PREFIXED, Topics.REQUESTS_PREFIX, AclOperation.READ, AclOperation.DESCRIBE, AclOperation.CREATE);
                allow(grants, user, ResourceType.TOPIC, PatternType.LITERAL, Topics.DEAD_LETTERS, AclOperation.WRITE);
                allow(grants, user, ResourceType.TOPIC, PatternType.LITERAL, Topics.CONTROL, AclOperation.READ, AclOperation.DESCRIBE, AclOperation.CREATE);
                for (String replies : List.of(Topics.REPLIES, Topics.TENANT_PREFIX)) {
                    allow(grants, user, ResourceType.TOPIC, replies.endsWith(".") ? PatternType.PREFIXED : PatternType.LITERAL, replies,
                            AclOperation.WRITE, AclOperation.READ, AclOperation.DESCRIBE, AclOperation.DESCRIBE_CONFIGS,
                            AclOperation.CREATE);
                }
                allow(grants, user, ResourceType.GROUP, PatternType.PREFIXED, "execfarm-workers-", AclOperation.READ);
                allow(grants, user, ResourceType.GROUP, PatternType.PREFIXED, "execfarm-control-", AclOperation.READ);
                allow(grants, user, ResourceType.GROUP, PatternType.PREFIXED, "execfarm-shared-", AclOperation.READ, AclOperation.ALTER_CONFIGS);
            }
        }
        return grants;
    }

    private static void allow(List<AclBinding> grants, String principal, ResourceType type, PatternType pattern, String name,
            AclOperation... operations) {
        for (AclOperation operation : operations) {
            grants.add(new AclBinding(new ResourcePattern(type, name, pattern),
                    new AccessControlEntry(principal, "*", operation, AclPermissionType.ALLOW)));
        }
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
     * admin; returns once every service can log in and the broker enforces every grant.
     */
    public static Map<Service, KafkaLogin> provision(KafkaLogin admin, Map<Service, String> passwords) {
        Map<Service, KafkaLogin> logins = new EnumMap<>(Service.class);
        List<UserScramCredentialUpsertion> users = new ArrayList<>();
        List<AclBinding> grants = new ArrayList<>();
        passwords.forEach((service, password) -> {
            users.add(new UserScramCredentialUpsertion(service.user(),
                    new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, SCRAM_ITERATIONS), password));
            grants.addAll(grants(service));
            logins.put(service, KafkaLogin.scram(admin.bootstrap(), service.user(), password));
        });
        try (Admin kafka = Admin.create(admin.clientSettings())) {
            kafka.alterUserScramCredentials(List.copyOf(users)).all().get(SETTLE.toSeconds(), TimeUnit.SECONDS);
            kafka.createAcls(grants).all().get(SETTLE.toSeconds(), TimeUnit.SECONDS);
            awaitEnforced(kafka, grants);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("could not create the farm's Kafka users and grants as " + admin + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        logins.values().forEach(KafkaAccounts::awaitLogin);
        return logins;
    }

    /** The controller commits users and ACLs; the broker applies them a moment later. */
    private static void awaitEnforced(Admin kafka, Collection<AclBinding> grants)
            throws ExecutionException, InterruptedException, TimeoutException {
        long deadline = System.nanoTime() + SETTLE.toNanos();
        while (!kafka.describeAcls(AclBindingFilter.ANY).values().get(SETTLE.toSeconds(), TimeUnit.SECONDS).containsAll(grants)) {
            if (System.nanoTime() > deadline) {
                throw new TimeoutException("the broker did not enforce the farm's grants within " + SETTLE.toSeconds() + " s");
            }
            Thread.sleep(50);
        }
    }

    private static void awaitLogin(KafkaLogin login) {
        long deadline = System.nanoTime() + SETTLE.toNanos();
        while (true) {
            try (Admin kafka = Admin.create(login.clientSettings())) {
                kafka.describeCluster().clusterId().get(SETTLE.toSeconds(), TimeUnit.SECONDS);
                return;
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof SaslAuthenticationException) || System.nanoTime() > deadline) {
                    throw new IllegalStateException(login + " cannot log in: " + e.getCause(), e);
                }
            } catch (TimeoutException e) {
                throw new IllegalStateException(login + " cannot log in: " + e, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }
}
