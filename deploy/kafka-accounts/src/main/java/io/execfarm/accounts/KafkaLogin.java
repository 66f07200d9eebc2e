package io.execfarm.accounts;

import java.util.HashMap;
import java.util.Map;

/**
 * Where a Kafka client connects and who it logs in as: the settings any Kafka client (producer,
 * consumer, admin, a Quarkus application's {@code kafka.*}) takes to reach the project's brokers,
 * which authenticate every connection.
 *
 * @param mechanism {@code PLAIN} for the broker's admin, defined in the broker's own configuration;
 *                  {@code SCRAM-SHA-512} for everyone else, users the admin creates; {@link #NONE}
 *                  for a broker started {@code --open}, which takes anyone (benchmarks only)
 */
public record KafkaLogin(String bootstrap, String mechanism, String username, String password) {

    public static final String ADMIN = "admin";
    /** No login at all: a broker without SASL, which {@code deploy/local/infra start --open} starts to measure what security costs. */
    public static final String NONE = "NONE";
    private static final String OPEN_PROTOCOL = "PLAINTEXT";

    /** Anyone, on a broker started {@code --open}. */
    public static KafkaLogin open(String bootstrap) {
        return new KafkaLogin(bootstrap, NONE, "", "");
    }

    /** Whether the environment ({@code KAFKA_SECURITY_PROTOCOL=PLAINTEXT}) names a broker started {@code --open}. */
    public static boolean isOpen(Map<String, String> env) {
        return OPEN_PROTOCOL.equals(env.get("KAFKA_SECURITY_PROTOCOL"));
    }

    public boolean isOpen() {
        return mechanism.equals(NONE);
    }

    public static KafkaLogin admin(String bootstrap, String password) {
        return new KafkaLogin(bootstrap, "PLAIN", ADMIN, password);
    }

    /** The admin's login from deploy/local/infra's output ({@code KAFKA_BOOTSTRAP}, {@code KAFKA_ADMIN_PASSWORD}), or a farm's environment. */
    public static KafkaLogin admin(Map<String, String> env) {
        if (isOpen(env)) {
            return open(env.get("KAFKA_BOOTSTRAP"));
        }
        String password = env.get("KAFKA_ADMIN_PASSWORD");
        if (password == null) {
            throw new IllegalArgumentException("no KAFKA_ADMIN_PASSWORD among " + env.keySet());
        }
        return admin(env.get("KAFKA_BOOTSTRAP"), password);
    }

    public static KafkaLogin scram(String bootstrap, String username, String password) {
        return new KafkaLogin(bootstrap, "SCRAM-SHA-512", username, password);
    }

    /** {@code bootstrap.servers} and the SASL settings, for any Kafka client. */
    public Map<String, Object> clientSettings() {
        Map<String, Object> settings = new HashMap<>(securitySettings());
        settings.put("bootstrap.servers", bootstrap);
        return settings;
    }

    /** The SASL settings alone: protocol, mechanism and the login module with this user's password. */
    public Map<String, String> securitySettings() {
        if (isOpen()) {
            return Map.of("security.protocol", OPEN_PROTOCOL);
        }
        String module = mechanism.equals("PLAIN") ? "org.apache.kafka.common.security.plain.PlainLoginModule"
                : "org.apache.kafka.common.security.scram.ScramLoginModule";
        return Map.of(
                "security.protocol", "SASL_PLAINTEXT",
                "sasl.mechanism", mechanism,
                "sasl.jaas.config", module + " required username=\"" + username + "\" password=\"" + password + "\";");
    }

    /** The environment a packaged execfarm application reads its Kafka address and login from. */
    public Map<String, String> appEnvironment() {
        if (isOpen()) {
            return Map.of("KAFKA_BOOTSTRAP", bootstrap, "KAFKA_SECURITY_PROTOCOL", OPEN_PROTOCOL);
        }
        return Map.of("KAFKA_BOOTSTRAP", bootstrap, "KAFKA_USERNAME", username, "KAFKA_PASSWORD", password);
    }

    /** The password stays out of logs and exception messages. */
    @Override
    public String toString() {
        return "KafkaLogin[" + username + " (" + mechanism + ") at " + bootstrap + "]";
    }
}
