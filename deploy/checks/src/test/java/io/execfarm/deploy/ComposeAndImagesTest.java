package io.execfarm.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * docker-compose.yml and the Dockerfiles, checked without a Docker engine. Where one answers,
 * deploy/containers/compose-check builds and drives the cluster for real (CI runs it).
 */
class ComposeAndImagesTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void theComposeClusterStartsInOrderAndScalesWorkers() throws IOException {
        JsonNode compose = DeployFiles.documents(DeployFiles.root().resolve("docker-compose.yml")).get(0);
        JsonNode services = compose.get("services");
        Set<String> names = new HashSet<>();
        Set<String> observability = new HashSet<>();
        Set<String> cluster = new HashSet<>();
        services.fields().forEachRemaining(service -> {
            if (service.getValue().path("profiles").isMissingNode()) {
                names.add(service.getKey());
                // kafka-setup runs once and exits: the others wait for it to complete.
                assertTrue(service.getKey().equals("kafka-setup") || !service.getValue().at("/healthcheck/test").isMissingNode(),
                        service.getKey() + " has a healthcheck");
            } else if (service.getValue().get("profiles").toString().equals("[\"cluster\"]")) {
                cluster.add(service.getKey());
            } else {
                assertEquals("[\"observability\"]", service.getValue().get("profiles").toString(), service.getKey());
                observability.add(service.getKey());
            }
        });
        assertEquals(Set.of("kafka", "kafka-setup", "redis", "dispatcher", "worker"), names, "what `docker compose up` starts");
        assertEquals(Set.of("otel-collector", "jaeger", "prometheus", "grafana"), observability,
                "what the observability profile adds");
        assertEquals(Set.of("kafka-2", "kafka-3", "redis-2", "redis-3", "redis-4", "redis-5", "redis-6", "redis-cluster"),
                cluster, "what the cluster profile adds");
        for (String app : List.of("dispatcher", "worker")) {
            assertEquals("${QUARKUS_OTEL_SDK_DISABLED:-true}",
                    services.at("/" + app + "/environment/QUARKUS_OTEL_SDK_DISABLED").asText(), app + " traces only when asked");
            assertEquals("http://otel-collector:4317",
                    services.at("/" + app + "/environment/QUARKUS_OTEL_EXPORTER_OTLP_ENDPOINT").asText());
        }
        for (String app : observability) {
            for (JsonNode volume : services.at("/" + app + "/volumes")) {
                Path mounted = DeployFiles.root().resolve(volume.asText().split(":")[0]).normalize();
                assertTrue(Files.exists(mounted), app + " mounts " + mounted + ", which exists");
            }
        }
        for (String app : List.of("dispatcher", "worker")) {
            JsonNode service = services.get(app);
            assertEquals("service_healthy", service.at("/depends_on/redis/condition").asText(),
                    app + " starts once Redis is healthy");
            assertEquals("service_completed_successfully", service.at("/depends_on/kafka-setup/condition").asText(),
                    app + " starts once its Kafka user exists");
            assertEquals("${EXECFARM_KAFKA_BOOTSTRAP:-kafka:9092}", service.at("/environment/KAFKA_BOOTSTRAP").asText(),
                    app + " finds Kafka");
            assertEquals("execfarm-" + app, service.at("/environment/KAFKA_USERNAME").asText(), app + " logs in as itself");
            assertTrue(service.at("/environment/KAFKA_PASSWORD").asText().startsWith("${KAFKA_" + app.toUpperCase()
                    + "_PASSWORD:?"), app + " has the password compose requires");
            assertTrue(service.at("/environment/KAFKA_SECURITY_PROTOCOL").isMissingNode(),
                    app + " keeps its default, SASL_PLAINTEXT");
            String redis = service.at("/environment/REDIS_URL").asText();
            assertTrue(redis.startsWith("${EXECFARM_REDIS_URL:-redis://:${REDIS_PASSWORD:?")
                    && redis.endsWith("@redis:6379}"),
                    app + " finds Redis, with the password compose requires: " + redis);
        }
        assertEquals("REDIS_PASSWORD", compose.at("/secrets/redis_password/environment").asText());
        JsonNode kafka = services.get("kafka");
        assertEquals("SASL_PLAINTEXT://:9092,CONTROLLER://:9093", kafka.at("/environment/KAFKA_LISTENERS").asText(),
                "every listener authenticates");
        assertEquals("CONTROLLER:SASL_PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT",
                kafka.at("/environment/KAFKA_LISTENER_SECURITY_PROTOCOL_MAP").asText());
        assertEquals("org.apache.kafka.metadata.authorizer.StandardAuthorizer",
                kafka.at("/environment/KAFKA_AUTHORIZER_CLASS_NAME").asText());
        assertEquals("false", kafka.at("/environment/KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND").asText(),
                "nothing is allowed that no ACL allows");
        assertEquals("KAFKA_ADMIN_PASSWORD", compose.at("/secrets/kafka_admin_password/environment").asText());
        assertFalse(kafka.path("environment").toString().contains("KAFKA_ADMIN_PASSWORD"),
                "the broker gets its admin's password as a secret, not in its environment");
        assertTrue(kafka.at("/healthcheck/test").toString().contains("--command-config /tmp/admin.properties"),
                "the healthcheck logs in");
        JsonNode setup = services.get("kafka-setup");
        assertEquals("[\"provision\"]", setup.path("command").toString());
        assertEquals("service_healthy", setup.at("/depends_on/kafka/condition").asText());
        assertTrue(services.at("/redis/command").toString().contains("requirepass"), "Redis demands the password");
        String redisCommand = services.at("/redis/command").toString();
        assertTrue(redisCommand.contains("appendonly yes") && redisCommand.contains("appendfsync everysec"),
                "Redis keeps an append-only file: " + redisCommand);
        assertTrue(services.at("/redis/volumes").toString().contains("redis-data:/data"), "on a volume");
        JsonNode worker = services.get("worker");
        assertTrue(worker.path("container_name").isMissingNode() && worker.path("ports").isMissingNode(),
                "nothing stops `docker compose up --scale worker=4`");
        assertEquals("deploy/worker/Dockerfile", worker.at("/build/dockerfile").asText());
        assertEquals("bubblewrap-and-uid", worker.at("/environment/EXECFARM_WORKER_SANDBOX_MINIMUM_ISOLATION").asText(),
                "the compose worker refuses to run user code with less than the strongest isolation");
        assertTrue(services.at("/dispatcher/environment/EXECFARM_API_KEYS").asText().contains(":"),
                "one API key is configured");
        // SYS_PTRACE alone: to reach a sandboxed process's scratch (/proc/<pid>/root) and its driver's wait.
        assertEquals("[\"SYS_PTRACE\"]", worker.path("cap_add").toString(),
                "the worker gets one capability beyond the default ones");
        Set<String> securityOptions = new HashSet<>();
        worker.path("security_opt").forEach(o -> securityOptions.add(o.asText()));
        assertTrue(securityOptions.contains("seccomp=deploy/worker/seccomp.json"), "the worker's own seccomp profile");
        assertFalse(securityOptions.contains("seccomp=unconfined"), "never without seccomp");
    }

    /**
     * The worker container's profile lets bubblewrap build its sandbox and refuses what neither the
     * worker nor the sandbox needs. Measured under podman (docs/architecture.md): bubblewrap runs
     * under it, as root dropping to a slot's uid and as uid 10001 with no capabilities.
     */
    @Test
    void theWorkerSeccompProfileAllowsBubblewrapAndRefusesTheKernelsRiskiestCalls() throws IOException {
        JsonNode profile = JSON.readTree(DeployFiles.root().resolve("deploy/worker/seccomp.json").toFile());
        assertEquals("SCMP_ACT_ALLOW", profile.get("defaultAction").asText());
        Set<String> refused = new HashSet<>();
        for (JsonNode rule : profile.get("syscalls")) {
            assertEquals("SCMP_ACT_ERRNO", rule.get("action").asText(), "rules only refuse: " + rule);
            assertTrue(rule.path("args").isEmpty(), "refusals are unconditional: " + rule);
            rule.get("names").forEach(n -> refused.add(n.asText()));
        }
        assertTrue(refused.containsAll(List.of("ptrace", "process_vm_readv", "bpf", "perf_event_open", "userfaultfd",
                "io_uring_setup", "keyctl", "add_key", "init_module", "finit_module", "kexec_load", "reboot", "swapon",
                "open_by_handle_at")), "refused: " + refused);
        for (String bubblewrapNeeds : List.of("clone", "clone3", "unshare", "setns", "mount", "umount2", "pivot_root",
                "chroot", "seccomp", "prctl", "capset")) {
            assertFalse(refused.contains(bubblewrapNeeds), "bubblewrap needs " + bubblewrapNeeds);
        }
    }

    @Test
    void theWorkerImageBuildsASysimageAndPassesConformanceToBuild() throws IOException {
        String dockerfile = Files.readString(DeployFiles.root().resolve("deploy/worker/Dockerfile"));
        assertTrue(dockerfile.contains("ARG JULIA_IMAGE=julia:") && dockerfile.contains("FROM ${JULIA_IMAGE} AS julia"),
                "Julia comes from the official image unless a stand-in is named");
        assertTrue(dockerfile.contains(" bubblewrap ") && dockerfile.contains(" python3-seccomp "),
                "the sandbox's strongest isolation can run in the image");
        assertTrue(dockerfile.contains(" python3-matplotlib "), "Python code can plot, and display its figures");
        assertTrue(dockerfile.contains("build-image-sysimage"), "a sysimage is built");
        String sysimage = Files.readString(DeployFiles.root().resolve("deploy/julia/build-image-sysimage"));
        assertTrue(sysimage.contains("build-sysimage.jl") && sysimage.contains("build-sysimage-incremental"),
                "by PackageCompiler on a current Julia, incrementally on Debian's 1.5.3");
        assertTrue(sysimage.contains("trace-workload.sh"), "from a recorded workload");
        assertTrue(dockerfile.contains("EXECFARM_REQUIRE_JULIA=true"), "a Julia that cannot run fails the build");
        assertTrue(dockerfile.contains("EXECFARM_JULIA_SYSIMAGE="), "conformance runs on the sysimage too");
        assertTrue(dockerfile.contains("COPY --from=conformance"),
                "the final image depends on the conformance stage, so BuildKit cannot skip it");
        assertTrue(dockerfile.contains("ARG CONFORMANCE=run"), "the stage runs the suite unless told to skip it");
        JsonNode compose = DeployFiles.documents(DeployFiles.root().resolve("docker-compose.yml")).get(0);
        assertEquals("${EXECFARM_WORKER_CONFORMANCE:-run}", compose.at("/services/worker/build/args/CONFORMANCE").asText(),
                "and compose tells it to skip only when asked (CI, which has just run the suite)");
        assertTrue(Pattern.compile("(?m)^USER 10001$").matcher(dockerfile).find(), "non-root by default");
        for (Path script : List.of(Path.of("deploy/julia/trace-workload.sh"), Path.of("deploy/julia/build-sysimage.jl"),
                Path.of("deploy/julia/workload.jsonl"), Path.of("deploy/julia/packages.txt"),
                Path.of("deploy/worker/application.properties"))) {
            assertTrue(Files.isRegularFile(DeployFiles.root().resolve(script)), script + " exists");
        }
        assertCopiedPathsExist(dockerfile);
        assertCopiedPathsExist(Files.readString(DeployFiles.root().resolve("deploy/dispatcher/Dockerfile")));
    }

    /**
     * deploy/containers/cluster.env switches on the cluster profile and points every part at it: three
     * voters that are the three brokers, topics in three copies, the apps on the six-node Redis Cluster
     * that redis-cluster joins before they start. compose-check --cluster drives it where an engine
     * answers.
     */
    @Test
    void theClusterProfileIsThreeBrokersAndASixNodeRedisCluster() throws IOException {
        JsonNode services = DeployFiles.documents(DeployFiles.root().resolve("docker-compose.yml")).get(0).get("services");
        Map<String, String> env = new HashMap<>();
        for (String line : Files.readAllLines(DeployFiles.root().resolve("deploy/containers/cluster.env"))) {
            if (!line.isBlank() && !line.startsWith("#")) {
                env.put(line.substring(0, line.indexOf('=')), line.substring(line.indexOf('=') + 1));
            }
        }
        assertEquals("cluster", env.get("COMPOSE_PROFILES"));
        List<String> brokers = List.of("kafka", "kafka-2", "kafka-3");
        List<String> voters = new ArrayList<>();
        for (String broker : brokers) {
            JsonNode service = services.get(broker);
            String environment = service.path("environment").toString();
            assertTrue(broker.equals("kafka") || service.path("extends").asText().equals("kafka"),
                    broker + " is kafka's like");
            String id = service.at("/environment/KAFKA_NODE_ID").asText();
            voters.add(id + "@" + broker + ":9093");
            assertTrue(environment.contains("SASL_PLAINTEXT://" + broker + ":9092"), broker + " advertises itself");
        }
        assertEquals(String.join(",", voters), env.get("EXECFARM_KAFKA_VOTERS"), "every broker votes");
        assertEquals(brokers.stream().map(b -> b + ":9092").collect(Collectors.joining(",")),
                env.get("EXECFARM_KAFKA_BOOTSTRAP"));
        assertEquals("3", env.get("EXECFARM_KAFKA_REPLICATION_FACTOR"));
        assertEquals("2", env.get("EXECFARM_KAFKA_MIN_INSYNC_REPLICAS"));
        JsonNode kafka = services.at("/kafka/environment");
        for (String setting : List.of("DEFAULT_REPLICATION_FACTOR", "OFFSETS_TOPIC_REPLICATION_FACTOR",
                "TRANSACTION_STATE_LOG_REPLICATION_FACTOR", "SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR")) {
            assertEquals("${EXECFARM_KAFKA_REPLICATION_FACTOR:-1}", kafka.path("KAFKA_" + setting).asText(), setting);
        }
        for (String setting : List.of("MIN_INSYNC_REPLICAS", "TRANSACTION_STATE_LOG_MIN_ISR",
                "SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR")) {
            assertEquals("${EXECFARM_KAFKA_MIN_INSYNC_REPLICAS:-1}", kafka.path("KAFKA_" + setting).asText(), setting);
        }
        for (String broker : List.of("kafka-2", "kafka-3")) {
            assertEquals("false", services.at("/kafka-setup/depends_on/" + broker + "/required").asText(),
                    "the workers make their topics once every broker is up, on a cluster");
        }

        assertEquals("yes", env.get("EXECFARM_REDIS_CLUSTER"));
        assertEquals("cluster", env.get("REDIS_CLIENT_TYPE"));
        assertEquals("1", env.get("EXECFARM_WORKER_REPLICATED_WRITES_REPLICAS"), "writes wait for a replica");
        List<String> nodes = List.of("redis", "redis-2", "redis-3", "redis-4", "redis-5", "redis-6");
        String create = services.at("/redis-cluster/command").toString();
        for (String node : nodes) {
            JsonNode service = services.get(node);
            assertTrue(node.equals("redis") || service.path("extends").asText().equals("redis"), node + " is redis's like");
            assertEquals(node, service.at("/environment/REDIS_NODE").asText(), node + " announces its name");
            assertEquals(node + "-data:/data", service.at("/volumes/0").asText(), node + " has a volume of its own");
            assertEquals("service_healthy", services.at("/redis-cluster/depends_on/" + node + "/condition").asText());
            assertTrue(create.contains(" " + node + ":6379"), "redis-cluster joins " + node);
        }
        assertTrue(create.contains("--cluster-replicas 1"), "three masters with a replica each");
        assertTrue(services.at("/redis/command").toString().contains("cluster-enabled yes"));
        for (String url : env.get("EXECFARM_REDIS_URL").split(",")) {
            assertTrue(url.matches("redis://:\\$\\{REDIS_PASSWORD:\\?[^}]*\\}@([a-z0-9-]+):6379")
                    && nodes.contains(url.replaceAll(".*@|:6379", "")), "the apps log in to a node: " + url);
        }
        for (String app : List.of("dispatcher", "worker")) {
            JsonNode service = services.get(app);
            assertEquals("${REDIS_CLIENT_TYPE:-standalone}", service.at("/environment/REDIS_CLIENT_TYPE").asText());
            assertEquals("service_completed_successfully", service.at("/depends_on/redis-cluster/condition").asText());
            assertEquals("false", service.at("/depends_on/redis-cluster/required").asText(), "only on a cluster");
        }
        assertEquals("${EXECFARM_WORKER_REPLICATED_WRITES_REPLICAS:-0}",
                services.at("/worker/environment/EXECFARM_WORKER_REPLICATED_WRITES_REPLICAS").asText());
    }

    /** The compose command the README gives is the one deploy/containers/compose-check runs. */
    @Test
    void theReadmesComposeCommandIsTheCheckedOne() throws IOException {
        String check = Files.readString(DeployFiles.root().resolve("deploy/containers/compose-check"));
        Matcher up = Pattern.compile("(?m)^UP = \\[(.*)\\]$").matcher(check);
        assertTrue(up.find(), "compose-check names its command");
        String command = String.join(" ", up.group(1).replace("\"", "").split(",\\s*")) + " worker=4";
        assertTrue(Files.readString(DeployFiles.root().resolve("README.md")).contains(command),
                "README.md gives `" + command + "`");
    }

    @Test
    void theWorkloadIsDriverProtocol() throws IOException {
        int requests = 0;
        for (String line : Files.readAllLines(DeployFiles.root().resolve("deploy/julia/workload.jsonl"))) {
            JsonNode command = JSON.readTree(line);
            assertEquals("exec", command.get("op").asText(), line);
            assertTrue(command.get("id").isTextual() && command.get("code").isTextual()
                    && command.get("maxOutputBytes").isInt(), line);
            requests++;
        }
        assertTrue(requests >= 5, "a workload worth recording");
    }

    /** Every repository path a COPY names must exist, or the build breaks where nobody tested it. */
    private static void assertCopiedPathsExist(String dockerfile) {
        Matcher copy = Pattern.compile("(?m)^COPY (?!--from)(?:--\\S+ )*(\\S+) \\S+$").matcher(dockerfile);
        while (copy.find()) {
            String source = copy.group(1);
            if (!source.equals(".")) {
                assertTrue(Files.exists(DeployFiles.root().resolve(source)), "COPY source " + source + " exists");
            }
        }
    }
}
