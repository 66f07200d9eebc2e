package io.execfarm.accounts;

import static io.execfarm.accounts.BrokerAccess.allow;
import static io.execfarm.accounts.BrokerAccess.await;
import static org.apache.kafka.common.acl.AclOperation.CREATE;
import static org.apache.kafka.common.acl.AclOperation.DESCRIBE;
import static org.apache.kafka.common.acl.AclOperation.READ;
import static org.apache.kafka.common.acl.AclOperation.WRITE;
import static org.apache.kafka.common.resource.PatternType.LITERAL;
import static org.apache.kafka.common.resource.PatternType.PREFIXED;
import static org.apache.kafka.common.resource.ResourceType.GROUP;
import static org.apache.kafka.common.resource.ResourceType.TOPIC;

import io.execfarm.contracts.Topics;
import io.execfarm.contracts.WireNames;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AccessControlEntryFilter;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.quota.ClientQuotaAlteration;
import org.apache.kafka.common.quota.ClientQuotaEntity;
import org.apache.kafka.common.quota.ClientQuotaFilter;
import org.apache.kafka.common.resource.ResourcePatternFilter;

/**
 * Tenants that use Kafka directly. Each is a SCRAM user, {@code tenant-<name>}, that may write one
 * topic, its ingress {@code execfarm.ingress.<name>}, and read its own topics and consumer groups,
 * those under {@code execfarm.tenant.<name>.} (its reply topics); nothing else of the farm's
 * (requests, replies, control, dead letters, another tenant's topics, the workers' groups). Each
 * has produce-rate and request-rate quotas; the farm's services have none. The broker's admin adds
 * and removes them.
 */
public final class KafkaTenants {

    public static final String USER_PREFIX = "tenant-";
    private static final String PRODUCE_RATE = "producer_byte_rate";
    private static final String REQUEST_PERCENTAGE = "request_percentage";
    private static final Duration FORWARDING_POLL = Duration.ofMillis(250);

    /**
     * What one tenant may take of the broker: bytes per second it may produce (beyond that its
     * requests are delayed, not refused), and its share of the broker's request-handling time, in
     * percent of one thread.
     */
    public record Quota(long produceBytesPerSecond, double requestPercentage) {

        public static final Quota DEFAULT = new Quota(1024 * 1024, 50);

        public Quota {
            if (produceBytesPerSecond < 1 || requestPercentage <= 0) {
                throw new IllegalArgumentException("a quota is positive: " + produceBytesPerSecond + " bytes/s, "
                        + requestPercentage + "%");
            }
        }

        public String describe() {
            return produceBytesPerSecond + " bytes/s, " + requestPercentage + "% of a request thread";
        }
    }

    /** A tenant as the broker knows it: its name and its quota (empty where none is set). */
    public record Tenant(String name, Optional<Quota> quota) {
    }

    private KafkaTenants() {
    }

    public static String user(String tenant) {
        return USER_PREFIX + WireNames.requireKafkaTenant(tenant);
    }

    static List<AclBinding> grants(String tenant) {
        String user = user(tenant);
        List<AclBinding> grants = new ArrayList<>();
        allow(grants, user, TOPIC, LITERAL, Topics.ingress(tenant), WRITE, DESCRIBE);
        allow(grants, user, TOPIC, PREFIXED, Topics.tenantTopics(tenant), READ, DESCRIBE, CREATE);
        allow(grants, user, GROUP, PREFIXED, Topics.tenantTopics(tenant), READ);
        return grants;
    }

    /**
     * What a client of the tenant needs, as {@code NAME=value} lines for {@code eval}: its name, the
     * broker, its login, the security settings, and the topics it writes and reads (the Java client's
     * {@code ClientSettings.fromEnvironment} reads them).
     */
    public static Map<String, String> clientEnvironment(String tenant, KafkaLogin login) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("EXECFARM_TENANT", tenant);
        env.put("KAFKA_BOOTSTRAP", login.bootstrap());
        env.put("KAFKA_USERNAME", login.username());
        env.put("KAFKA_PASSWORD", login.password());
        env.put("KAFKA_SECURITY_PROTOCOL", login.securitySettings().get("security.protocol"));
        env.put("KAFKA_SASL_MECHANISM", login.mechanism());
        env.put("EXECFARM_INGRESS", Topics.ingress(tenant));
        env.put("EXECFARM_REPLIES", Topics.tenantReplies(tenant));
        return env;
    }

    /**
     * Adds the tenant (or gives it a new password and quota): its user, its grants, its quota, its
     * ingress topic and its reply topic {@code execfarm.tenant.<name>.replies}, each with
     * {@code partitions}. Returns its login once the broker accepts it.
     */
    public static KafkaLogin add(KafkaLogin admin, String tenant, String password, Quota quota, int partitions) {
        String user = user(tenant);
        try (Admin kafka = Admin.create(admin.clientSettings())) {
            BrokerAccess.grant(kafka, List.of(BrokerAccess.user(user, password)), grants(tenant));
            await(kafka.alterClientQuotas(List.of(new ClientQuotaAlteration(entity(user), List.of(
                    new ClientQuotaAlteration.Op(PRODUCE_RATE, (double) quota.produceBytesPerSecond()),
                    new ClientQuotaAlteration.Op(REQUEST_PERCENTAGE, quota.requestPercentage()))))).all());
            createTopics(kafka, List.of(Topics.ingress(tenant), Topics.tenantReplies(tenant)), partitions);
        } catch (ExecutionException | InterruptedException | TimeoutException e) {
            throw BrokerAccess.failed("add tenant " + tenant + " as " + admin, e);
        }
        KafkaLogin login = KafkaLogin.scram(admin.bootstrap(), user, password);
        BrokerAccess.awaitLogin(login);
        return login;
    }

    /**
     * Removes the tenant: its login (its password replaced by one nobody holds), grants and quota;
     * then, once the dispatchers' forwarders are past every record of its ingress topic (or after
     * {@code forwardingWait}), its ingress topic and every topic under its prefix. Deleting them
     * under a forwarder that still held records of them would have it answer a refusal on a
     * deleted topic and commit offsets of deleted partitions, each of which holds up every
     * tenant's forwarding for up to a minute. Says whether the forwarders were past its records.
     */
    public static boolean remove(KafkaLogin admin, String tenant, Duration forwardingWait) {
        String user = user(tenant);
        try (Admin kafka = Admin.create(admin.clientSettings())) {
            // Its password replaced by one nobody holds rather than its credential deleted: on Kafka
            // 4.2 a broker restarted after a SCRAM credential's deletion came back with no SCRAM user
            // at all (KafkaSecurityTest, then a restart, showed it).
            BrokerAccess.grant(kafka, List.of(BrokerAccess.user(user, Passwords.generate())), List.of());
            await(kafka.deleteAcls(List.of(new AclBindingFilter(ResourcePatternFilter.ANY,
                    new AccessControlEntryFilter("User:" + user, null, AclOperation.ANY, AclPermissionType.ANY)))).all());
            // An operation without a value removes that quota.
            await(kafka.alterClientQuotas(List.of(new ClientQuotaAlteration(entity(user), List.of(
                    new ClientQuotaAlteration.Op(PRODUCE_RATE, null),
                    new ClientQuotaAlteration.Op(REQUEST_PERCENTAGE, null))))).all());
            Set<String> topics = await(kafka.listTopics().names());
            boolean forwarded = !topics.contains(Topics.ingress(tenant))
                    || awaitForwarded(kafka, Topics.ingress(tenant), forwardingWait);
            List<String> owned = topics.stream().filter(topic -> topic.equals(Topics.ingress(tenant))
                    || topic.startsWith(Topics.tenantTopics(tenant))).toList();
            await(kafka.deleteTopics(owned).all());
            return forwarded;
        } catch (ExecutionException | InterruptedException | TimeoutException e) {
            throw BrokerAccess.failed("remove tenant " + tenant + " as " + admin, e);
        }
    }

    /**
     * Waits until the forwarders' group has committed the end of every partition of {@code ingress}
     * (its writer already shut out, the end stays put), or has no member to forward it.
     */
    private static boolean awaitForwarded(Admin kafka, String ingress, Duration wait)
            throws ExecutionException, InterruptedException, TimeoutException {
        Map<TopicPartition, OffsetSpec> latest = await(kafka.describeTopics(List.of(ingress)).allTopicNames())
                .get(ingress).partitions().stream()
                .collect(Collectors.toMap(p -> new TopicPartition(ingress, p.partition()), p -> OffsetSpec.latest()));
        Map<TopicPartition, Long> ends = await(kafka.listOffsets(latest).all()).entrySet().stream()
                .collect(Collectors.toMap(Map.Entry::getKey, end -> end.getValue().offset()));
        long deadline = System.nanoTime() + wait.toNanos();
        while (true) {
            if (forwarders(kafka) == 0) {
                return true;
            }
            Map<TopicPartition, OffsetAndMetadata> committed = await(kafka.listConsumerGroupOffsets(Topics.INGRESS_GROUP)
                    .partitionsToOffsetAndMetadata());
            boolean past = ends.entrySet().stream().allMatch(end -> end.getValue() == 0
                    || (committed.get(end.getKey()) != null && committed.get(end.getKey()).offset() >= end.getValue()));
            if (past) {
                return true;
            }
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            Thread.sleep(FORWARDING_POLL.toMillis());
        }
    }

    /** How many members the forwarders' group has: none where no dispatcher runs, or none ever did. */
    private static int forwarders(Admin kafka) throws ExecutionException, InterruptedException, TimeoutException {
        try {
            ConsumerGroupDescription group = await(kafka.describeConsumerGroups(List.of(Topics.INGRESS_GROUP)).all())
                    .get(Topics.INGRESS_GROUP);
            return group.members().size();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof GroupIdNotFoundException) {
                return 0;
            }
            throw e;
        }
    }

    /** The tenants on the broker, by name, with their quotas: users holding a tenant's grants (a removed tenant holds none). */
    public static List<Tenant> list(KafkaLogin admin) {
        try (Admin kafka = Admin.create(admin.clientSettings())) {
            Set<String> granted = await(kafka.describeAcls(AclBindingFilter.ANY).values()).stream()
                    .map(binding -> binding.entry().principal()).collect(Collectors.toSet());
            List<String> users = await(kafka.describeUserScramCredentials().users()).stream()
                    .filter(user -> user.startsWith(USER_PREFIX) && granted.contains("User:" + user)).sorted().toList();
            Map<ClientQuotaEntity, Map<String, Double>> quotas = await(kafka.describeClientQuotas(ClientQuotaFilter.all())
                    .entities());
            return users.stream().map(user -> {
                Map<String, Double> quota = quotas.getOrDefault(entity(user), Map.of());
                Optional<Quota> set = quota.containsKey(PRODUCE_RATE) && quota.containsKey(REQUEST_PERCENTAGE)
                        ? Optional.of(new Quota(quota.get(PRODUCE_RATE).longValue(), quota.get(REQUEST_PERCENTAGE)))
                        : Optional.empty();
                return new Tenant(user.substring(USER_PREFIX.length()), set);
            }).toList();
        } catch (ExecutionException | InterruptedException | TimeoutException e) {
            throw BrokerAccess.failed("list the tenants as " + admin, e);
        }
    }

    private static ClientQuotaEntity entity(String user) {
        return new ClientQuotaEntity(Map.of(ClientQuotaEntity.USER, user));
    }

    private static void createTopics(Admin kafka, List<String> names, int partitions)
            throws ExecutionException, InterruptedException, TimeoutException {
        Set<String> existing = await(kafka.listTopics().names());
        List<NewTopic> missing = names.stream().filter(name -> !existing.contains(name))
                .map(name -> new NewTopic(name, Optional.of(partitions), Optional.empty())).toList();
        try {
            await(kafka.createTopics(missing).all());
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw e;
            }
        }
    }
}
