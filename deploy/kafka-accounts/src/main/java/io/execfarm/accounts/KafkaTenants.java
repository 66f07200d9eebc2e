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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.acl.AccessControlEntryFilter;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
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
     * Removes the tenant: its login (its password replaced by one nobody holds), grants and quota,
     * its ingress topic and every topic under its prefix.
     */
    public static void remove(KafkaLogin admin, String tenant) {
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
            List<String> owned = topics.stream().filter(topic -> topic.equals(Topics.ingress(tenant))
                    || topic.startsWith(Topics.tenantTopics(tenant))).toList();
            await(kafka.deleteTopics(owned).all());
        } catch (ExecutionException | InterruptedException | TimeoutException e) {
            throw BrokerAccess.failed("remove tenant " + tenant + " as " + admin, e);
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
