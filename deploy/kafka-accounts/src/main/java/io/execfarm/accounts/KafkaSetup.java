package io.execfarm.accounts;

import java.io.PrintStream;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The farm's Kafka accounts where no {@code ./farm} runs (docker-compose, Kubernetes): a one-shot
 * command, run as the broker's admin, that reads the broker's address and the passwords from its
 * environment and prints nothing secret but what it was asked to make.
 *
 * <pre>
 *   provision              the services' users and grants (KAFKA_BOOTSTRAP, KAFKA_ADMIN_PASSWORD,
 *                          KAFKA_DISPATCHER_PASSWORD, KAFKA_WORKER_PASSWORD, and KAFKA_SCALER_PASSWORD
 *                          where something scales the workers on their lag)
 *   tenant add NAME        a tenant with the default quota; prints its client's settings once
 *   tenant remove NAME     removes it (its topics once the dispatchers are past its records)
 *   tenant list            the tenants and their quotas
 * </pre>
 */
public final class KafkaSetup {

    private static final Duration FORWARDING_WAIT = Duration.ofSeconds(60);
    private static final int TENANT_PARTITIONS = 4;

    private KafkaSetup() {
    }

    public static void main(String[] args) {
        try {
            System.exit(run(List.of(args), System.getenv(), System.out));
        } catch (IllegalArgumentException | IllegalStateException e) {
            System.err.println("kafka-setup: " + e.getMessage());
            System.exit(1);
        }
    }

    static int run(List<String> args, Map<String, String> env, PrintStream out) {
        KafkaLogin admin = KafkaLogin.admin(require(env, "KAFKA_BOOTSTRAP"), require(env, "KAFKA_ADMIN_PASSWORD"));
        String command = String.join(" ", args.subList(0, Math.min(2, args.size())));
        switch (command) {
            case "provision" -> {
                Map<KafkaAccounts.Service, String> passwords = new EnumMap<>(KafkaAccounts.Service.class);
                for (KafkaAccounts.Service service : KafkaAccounts.Service.values()) {
                    String variable = KafkaAccounts.passwordVariable(service);
                    if (service != KafkaAccounts.Service.SCALER || env.containsKey(variable)) {
                        passwords.put(service, require(env, variable));
                    }
                }
                KafkaAccounts.provision(admin, passwords);
                RepliesTopic.ensure(admin);
                out.println("kafka-setup: the services' users and grants are in place on " + admin.bootstrap());
            }
            case "tenant add" -> {
                String name = tenantName(args);
                KafkaLogin login = KafkaTenants.add(admin, name, Passwords.generate(), KafkaTenants.Quota.DEFAULT,
                        TENANT_PARTITIONS);
                KafkaTenants.clientEnvironment(name, login).forEach((variable, value) -> out.println(variable + "=" + value));
            }
            case "tenant remove" -> {
                String name = tenantName(args);
                if (!KafkaTenants.remove(admin, name, FORWARDING_WAIT)) {
                    System.err.println("kafka-setup: the dispatchers were not past " + name + "'s ingress records within "
                            + FORWARDING_WAIT.toSeconds() + " s; its topics went anyway");
                }
                out.println("kafka-setup: removed tenant " + name);
            }
            case "tenant list" -> KafkaTenants.list(admin).forEach(tenant -> out.println(tenant.name() + "  "
                    + tenant.quota().map(KafkaTenants.Quota::describe).orElse("no quota")));
            default -> throw new IllegalArgumentException("usage: provision | tenant add NAME | tenant remove NAME | "
                    + "tenant list (got: " + String.join(" ", args) + ")");
        }
        return 0;
    }

    private static String tenantName(List<String> args) {
        if (args.size() != 3) {
            throw new IllegalArgumentException("name one tenant: tenant " + args.get(1) + " NAME");
        }
        return args.get(2);
    }

    private static String require(Map<String, String> env, String variable) {
        String value = env.get(variable);
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException(variable + " is not set");
        }
        return value;
    }
}
