package io.execfarm.farm;

import io.execfarm.accounts.KafkaLogin;
import io.execfarm.accounts.KafkaTenants;
import io.execfarm.contracts.Topics;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import redis.clients.jedis.UnifiedJedis;

/**
 * {@code ./farm tenant add|list|remove}: a tenant of the running farm, on Kafka (a user, its ACLs,
 * its quota, its ingress and reply topics: KafkaTenants) and over HTTP (an API key), in one step.
 */
@Command(name = "tenant", description = "Add, list or remove a tenant: its Kafka user, ACLs, quota and topics, and an "
        + "HTTP API key.", subcommands = {TenantCommand.Add.class, TenantCommand.ListTenants.class,
                TenantCommand.Remove.class})
final class TenantCommand {

    @ParentCommand
    Farm farm;

    private Map<String, String> env() {
        return farm.state.env().filter(e -> farm.state.isUp())
                .orElseThrow(() -> new IllegalStateException("the farm is not up (./farm up)"));
    }

    @Command(name = "add", description = "Add a tenant (or give it a new password, quota and key), and print what its "
            + "clients need.")
    static final class Add implements Callable<Integer> {

        @ParentCommand
        TenantCommand tenants;

        @Parameters(paramLabel = "NAME", description = "letters, digits, '_' and '-', at most 64")
        String name;

        @Option(names = "--produce-bytes-per-second", description = "its produce quota (default: ${DEFAULT-VALUE})")
        long produceBytesPerSecond = KafkaTenants.Quota.DEFAULT.produceBytesPerSecond();

        @Option(names = "--request-percentage", description = "its share of the broker's request time, in percent of "
                + "one thread (default: ${DEFAULT-VALUE})")
        double requestPercentage = KafkaTenants.Quota.DEFAULT.requestPercentage();

        @Option(names = "--partitions", description = "partitions of its ingress and reply topics (default: "
                + "${DEFAULT-VALUE})")
        int partitions = 4;

        @Override
        public Integer call() {
            Map<String, String> env = tenants.env();
            KafkaTenants.Quota quota = new KafkaTenants.Quota(produceBytesPerSecond, requestPercentage);
            FarmTenants.Added added;
            try (UnifiedJedis redis = FarmRedis.connect(env)) {
                added = new FarmTenants(KafkaLogin.admin(env), redis).add(name, quota, partitions);
            }
            KafkaLogin login = added.login();
            tenants.farm.say("tenant " + name + ": Kafka user " + login.username() + " (quota " + quota.describe()
                    + "), and an HTTP API key; the password and the key are shown this once");
            KafkaTenants.clientEnvironment(name, login).forEach((variable, value) ->
                    tenants.farm.out.println(variable + "=" + value));
            tenants.farm.out.println("DISPATCHER_URL=" + env.get("DISPATCHER_URL"));
            tenants.farm.out.println("EXECFARM_API_KEY=" + added.apiKey());
            tenants.farm.say("publish requests and cancels to " + Topics.ingress(name) + "; name a replyTo, and consumer "
                    + "groups, under " + Topics.tenantTopics(name) + " (" + Topics.tenantReplies(name) + " is made)");
            return 0;
        }
    }

    @Command(name = "list", description = "The tenants on the farm's broker, with their quotas and HTTP keys.")
    static final class ListTenants implements Callable<Integer> {

        @ParentCommand
        TenantCommand tenants;

        @Override
        public Integer call() {
            Map<String, String> env = tenants.env();
            Map<String, Long> keys;
            try (UnifiedJedis redis = FarmRedis.connect(env)) {
                keys = new ApiKeyStore(redis).counts();
            }
            for (KafkaTenants.Tenant tenant : KafkaTenants.list(KafkaLogin.admin(env))) {
                String quota = tenant.quota().map(KafkaTenants.Quota::describe).orElse("no quota");
                tenants.farm.out.println(tenant.name() + "  " + quota + ", " + keys.getOrDefault(tenant.name(), 0L)
                        + " HTTP key(s)");
            }
            return 0;
        }
    }

    @Command(name = "remove", description = "Remove a tenant: its Kafka user, ACLs, quota and topics, and its HTTP keys.")
    static final class Remove implements Callable<Integer> {

        @ParentCommand
        TenantCommand tenants;

        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        public Integer call() {
            Map<String, String> env = tenants.env();
            FarmTenants.Removed removed;
            try (UnifiedJedis redis = FarmRedis.connect(env)) {
                removed = new FarmTenants(KafkaLogin.admin(env), redis).remove(name);
            }
            if (!removed.forwarded()) {
                tenants.farm.say("warning: the dispatchers were not past tenant " + name + "'s ingress records within a "
                        + "minute; its topics were deleted anyway, and a dispatcher may hold up forwarding for a while");
            }
            tenants.farm.say("removed tenant " + name + " (its Kafka user, ACLs, quota and topics, and "
                    + removed.apiKeys() + " HTTP key(s))");
            return 0;
        }
    }
}
