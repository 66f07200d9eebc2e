package io.execfarm.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** Every manifest in deploy/k8s, parsed and held to the properties the farm's security and scaling rely on. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KubernetesManifestsTest {

    private final List<JsonNode> objects = new ArrayList<>();

    @BeforeAll
    void parseEveryManifest() throws IOException {
        Path dir = DeployFiles.root().resolve("deploy/k8s");
        List<Path> files;
        try (Stream<Path> listing = Files.list(dir)) {
            files = listing.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
        }
        assertFalse(files.isEmpty(), "manifests in " + dir);
        for (Path file : files) {
            for (JsonNode document : DeployFiles.documents(file)) {
                assertTrue(document.hasNonNull("apiVersion") && document.hasNonNull("kind"),
                        file + ": every document has apiVersion and kind: " + document);
                objects.add(document);
            }
        }
        JsonNode kustomization = only("Kustomization", null);
        Set<String> listed = new HashSet<>();
        kustomization.get("resources").forEach(r -> listed.add(r.asText()));
        Set<String> present = new HashSet<>();
        files.stream().map(f -> f.getFileName().toString()).filter(f -> !f.equals("kustomization.yaml")).forEach(present::add);
        assertEquals(present, listed, "kustomization.yaml lists every manifest");
    }

    @Test
    void everyPodRunsHardened() {
        List<JsonNode> deployments = all("Deployment");
        assertEquals(Set.of("dispatcher", "worker"), names(deployments));
        for (JsonNode deployment : deployments) {
            String name = deployment.at("/metadata/name").asText();
            JsonNode pod = deployment.at("/spec/template/spec");
            assertTrue(pod.at("/securityContext/runAsNonRoot").asBoolean(), name + ": runAsNonRoot");
            assertTrue(pod.at("/securityContext/runAsUser").asInt() > 0, name + ": a non-root uid");
            if (name.equals("worker")) {
                assertEquals("Localhost", pod.at("/securityContext/seccompProfile/type").asText(), name + ": seccomp");
                assertEquals("profiles/execfarm-worker.json", pod.at("/securityContext/seccompProfile/localhostProfile").asText());
                assertFalse(pod.path("hostUsers").asBoolean(true),
                        "the worker's unmasked /proc is only ever allowed in a user-namespaced pod");
            } else {
                assertEquals("RuntimeDefault", pod.at("/securityContext/seccompProfile/type").asText(), name + ": seccomp");
            }
            assertFalse(pod.path("automountServiceAccountToken").asBoolean(true), name + ": no service account token");
            assertFalse(pod.path("hostNetwork").asBoolean(false) || pod.path("hostPID").asBoolean(false), name);
            for (JsonNode container : pod.get("containers")) {
                String where = name + "/" + container.get("name").asText();
                JsonNode security = container.get("securityContext");
                assertNotNull(security, where + ": a securityContext");
                assertTrue(security.path("readOnlyRootFilesystem").asBoolean(), where + ": read-only root filesystem");
                assertFalse(security.path("allowPrivilegeEscalation").asBoolean(true), where + ": no privilege escalation");
                assertFalse(security.path("privileged").asBoolean(false), where + ": not privileged");
                assertTrue(textValues(security.at("/capabilities/drop")).contains("ALL"), where + ": drops all capabilities");
                assertTrue(security.at("/capabilities/add").isMissingNode(), where + ": adds none");
                assertEquals(name.equals("worker") ? "Unmasked" : "Default", security.path("procMount").asText("Default"),
                        where + ": /proc is masked but where bubblewrap must mount its own");
                assertTrue(container.at("/resources/limits/memory").isTextual(), where + ": a memory limit");
                assertTrue(container.at("/resources/limits/cpu").isTextual(), where + ": a CPU limit");
                assertEquals("/q/health/ready", container.at("/readinessProbe/httpGet/path").asText(), where + ": readiness");
                assertEquals("/q/health/live", container.at("/livenessProbe/httpGet/path").asText(), where + ": liveness");
            }
        }
    }

    @Test
    void redisKeepsAnAppendOnlyFileOnAPersistentVolumeAndRunsHardened() {
        JsonNode redis = only("StatefulSet", "redis");
        JsonNode container = redis.at("/spec/template/spec/containers/0");
        String command = container.get("command").toString();
        assertTrue(command.contains("appendonly yes") && command.contains("appendfsync everysec"), command);
        assertTrue(command.contains("requirepass"), "Redis demands the password");
        Set<String> mounts = new HashSet<>();
        container.get("volumeMounts").forEach(mount -> mounts.add(mount.get("mountPath").asText()));
        assertTrue(mounts.contains("/data"), "the data directory is mounted: " + mounts);
        assertEquals("data", redis.at("/spec/volumeClaimTemplates/0/metadata/name").asText(), "on a persistent volume");
        assertTrue(redis.at("/spec/template/spec/securityContext/runAsNonRoot").asBoolean());
        assertTrue(container.at("/securityContext/readOnlyRootFilesystem").asBoolean());
        assertTrue(textValues(container.at("/securityContext/capabilities/drop")).contains("ALL"));
        assertEquals("redis", only("Service", "redis").at("/spec/selector/app.kubernetes.io~1name").asText());
    }

    @Test
    void redisIsAClusterOfThreeMastersWithAReplicaEachThatTheAppsUseAsOne() {
        JsonNode redis = only("StatefulSet", "redis");
        assertEquals(6, redis.at("/spec/replicas").asInt(), "three masters and a replica each");
        String command = redis.at("/spec/template/spec/containers/0/command").toString();
        for (String setting : List.of("cluster-enabled yes", "masterauth", "cluster-node-timeout",
                "cluster-announce-hostname")) {
            assertTrue(command.contains(setting), setting + " in " + command);
        }
        assertEquals("None", only("Service", "redis").at("/spec/clusterIP").asText(), "each node has a name of its own");
        JsonNode job = only("Job", "redis-cluster");
        JsonNode container = job.at("/spec/template/spec/containers/0");
        assertTrue(container.get("command").toString().contains("--cluster-replicas 1"), "the Job joins the six nodes");
        assertTrue(job.at("/spec/template/spec/securityContext/runAsNonRoot").asBoolean());
        assertTrue(container.at("/securityContext/readOnlyRootFilesystem").asBoolean());
        assertTrue(textValues(container.at("/securityContext/capabilities/drop")).contains("ALL"));
        assertEquals(1, only("PodDisruptionBudget", "redis").at("/spec/maxUnavailable").asInt(),
                "a drain never takes a master and its replica together");
        JsonNode config = only("ConfigMap", "execfarm");
        assertEquals("cluster", config.at("/data/REDIS_CLIENT_TYPE").asText(), "the apps' clients run in cluster mode");
        assertEquals("1", config.at("/data/EXECFARM_WORKER_REPLICATED_WRITES_REPLICAS").asText(),
                "the writes a failover must not lose wait for a replica");
        assertEquals(3, only("Secret", "execfarm-redis").at("/stringData/REDIS_URL").asText().split(",").length,
                "REDIS_URL names nodes of the cluster to learn it from");
        assertEquals(3, config.at("/data/KAFKA_BOOTSTRAP").asText().split(",").length, "three brokers");
    }

    @Test
    void theNamespaceEnforcesBaselineAndWarnsOfAnythingBelowRestricted() {
        JsonNode namespace = only("Namespace", "execfarm");
        assertEquals("baseline", namespace.at("/metadata/labels/pod-security.kubernetes.io~1enforce").asText());
        assertEquals("restricted", namespace.at("/metadata/labels/pod-security.kubernetes.io~1audit").asText());
        assertEquals("restricted", namespace.at("/metadata/labels/pod-security.kubernetes.io~1warn").asText());
        for (JsonNode object : objects) {
            if (!Set.of("Namespace", "Kustomization").contains(object.get("kind").asText())) {
                assertEquals("execfarm", object.at("/metadata/namespace").asText(),
                        object.get("kind").asText() + " " + object.at("/metadata/name").asText() + " is namespaced");
            }
        }
    }

    @Test
    void workersReachKafkaRedisDnsAndTheTraceCollectorOnly() {
        JsonNode policy = all("NetworkPolicy").stream()
                .filter(p -> "worker".equals(p.at("/spec/podSelector/matchLabels/app.kubernetes.io~1name").asText()))
                .findFirst().orElseThrow(() -> new AssertionError("a network policy selects the worker pods"));
        assertTrue(textValues(policy.at("/spec/policyTypes")).contains("Egress"), "egress is restricted");
        Set<String> allowed = new HashSet<>();
        for (JsonNode rule : policy.at("/spec/egress")) {
            assertFalse(rule.path("to").isEmpty(), "no egress rule allows every destination: " + rule);
            for (JsonNode peer : rule.get("to")) {
                assertTrue(peer.path("ipBlock").isMissingNode(), "no egress to IP blocks (the internet): " + rule);
                String app = peer.at("/podSelector/matchLabels/app.kubernetes.io~1name").asText(
                        peer.at("/podSelector/matchLabels/k8s-app").asText());
                for (JsonNode port : rule.get("ports")) {
                    allowed.add(app + ":" + port.get("port").asInt() + "/" + port.path("protocol").asText("TCP"));
                }
            }
        }
        assertEquals(Set.of("kafka:9092/TCP", "redis:6379/TCP", "kube-dns:53/UDP", "kube-dns:53/TCP",
                "opentelemetry-collector:4317/TCP"), allowed);
    }

    @Test
    void secretsAndConfigReachTheRightPods() {
        JsonNode secret = only("Secret", "execfarm-api-keys");
        assertTrue(secret.at("/stringData/EXECFARM_API_KEYS").isTextual(), "the API keys secret holds EXECFARM_API_KEYS");
        assertTrue(only("Secret", "execfarm-redis").at("/stringData/REDIS_URL").asText().startsWith("redis://:"),
                "Redis is reached with a password");
        JsonNode config = only("ConfigMap", "execfarm");
        assertTrue(config.at("/data/KAFKA_BOOTSTRAP").isTextual());
        assertTrue(config.at("/data/REDIS_URL").isMissingNode(), "Redis's address, with its password, is a secret");
        assertTrue(config.at("/data/KAFKA_SECURITY_PROTOCOL").isMissingNode(),
                "the applications keep their default, SASL_PLAINTEXT: the broker authenticates them");
        assertEquals(Set.of("execfarm", "execfarm-redis", "execfarm-api-keys", "execfarm-kafka-dispatcher"),
                envSources(only("Deployment", "dispatcher")));
        assertEquals(Set.of("execfarm", "execfarm-redis", "execfarm-kafka-worker"), envSources(only("Deployment", "worker")),
                "the worker, which runs hostile code, gets Redis's credentials and its own Kafka login, no API key");
        for (String service : List.of("dispatcher", "worker", "scaler")) {
            assertEquals("execfarm-" + service, only("Secret", "execfarm-kafka-" + service).at("/stringData/KAFKA_USERNAME")
                    .asText(), service + " logs in as itself");
        }
    }

    /** The Kafka users come from a one-shot Job, the only workload that holds the broker's admin password. */
    @Test
    void aHardenedJobMakesTheServicesKafkaUsersAsTheBrokersAdmin() {
        JsonNode job = only("Job", "kafka-setup");
        JsonNode pod = job.at("/spec/template/spec");
        assertTrue(pod.at("/securityContext/runAsNonRoot").asBoolean());
        assertFalse(pod.path("automountServiceAccountToken").asBoolean(true));
        JsonNode container = pod.at("/containers/0");
        assertTrue(container.at("/securityContext/readOnlyRootFilesystem").asBoolean());
        assertTrue(textValues(container.at("/securityContext/capabilities/drop")).contains("ALL"));
        assertTrue(container.at("/resources/limits/memory").isTextual());
        List<String> command = new ArrayList<>();
        container.get("command").forEach(word -> command.add(word.asText()));
        assertEquals(List.of("io.execfarm.accounts.KafkaSetup", "provision"), command.subList(command.size() - 2, command.size()));
        assertEquals(Set.of("execfarm", "execfarm-kafka-admin", "execfarm-kafka-dispatcher", "execfarm-kafka-worker",
                "execfarm-kafka-scaler"), envSources(job));
        for (JsonNode deployment : all("Deployment")) {
            assertFalse(envSources(deployment).contains("execfarm-kafka-admin"),
                    deployment.at("/metadata/name").asText() + " never holds the broker's admin password");
        }
    }

    @Test
    void servicesAndDisruptionBudgetsSelectTheirPods() {
        for (String app : List.of("dispatcher", "worker")) {
            JsonNode podLabels = only("Deployment", app).at("/spec/template/metadata/labels");
            JsonNode service = only("Service", app);
            service.get("spec").get("selector").fields().forEachRemaining(label ->
                    assertEquals(label.getValue().asText(), podLabels.path(label.getKey()).asText(), "service " + app));
            JsonNode budget = only("PodDisruptionBudget", app);
            budget.at("/spec/selector/matchLabels").fields().forEachRemaining(label ->
                    assertEquals(label.getValue().asText(), podLabels.path(label.getKey()).asText(), "budget " + app));
            assertTrue(budget.at("/spec/minAvailable").isInt() || budget.at("/spec/maxUnavailable").isInt(), app);
        }
    }

    @Test
    void kedaScalesWorkersOnTheLagOfEachRuntimesGroup() {
        JsonNode scaled = only("ScaledObject", "worker");
        assertEquals("worker", scaled.at("/spec/scaleTargetRef/name").asText());
        assertTrue(scaled.at("/spec/maxReplicaCount").asInt() <= 24, "no more workers than request partitions");
        assertTrue(scaled.at("/spec/minReplicaCount").asInt() >= 1, "a worker stays up to keep processes warm");
        Set<String> groups = new HashSet<>();
        for (JsonNode trigger : scaled.at("/spec/triggers")) {
            assertEquals("kafka", trigger.get("type").asText());
            String runtime = trigger.at("/metadata/topic").asText().replace("execfarm.requests.", "");
            assertEquals("execfarm-workers-" + runtime, trigger.at("/metadata/consumerGroup").asText(),
                    "each trigger watches the group that consumes its topic");
            assertTrue(Integer.parseInt(trigger.at("/metadata/lagThreshold").asText()) > 0);
            groups.add(trigger.at("/metadata/consumerGroup").asText());
        }
        assertEquals(Set.of("execfarm-workers-julia", "execfarm-workers-python"), groups);
        for (JsonNode trigger : scaled.at("/spec/triggers")) {
            assertEquals("kafka-scaler", trigger.at("/authenticationRef/name").asText(), "KEDA logs in to the broker");
        }
        JsonNode authentication = only("TriggerAuthentication", "kafka-scaler");
        for (JsonNode parameter : authentication.at("/spec/secretTargetRef")) {
            assertEquals("execfarm-kafka-scaler", parameter.get("name").asText(), "as the scaler, which reads offsets only");
        }
    }

    private Set<String> envSources(JsonNode workload) {
        Set<String> sources = new HashSet<>();
        for (JsonNode container : workload.at("/spec/template/spec/containers")) {
            for (JsonNode from : container.path("envFrom")) {
                sources.add(from.has("secretRef") ? from.at("/secretRef/name").asText() : from.at("/configMapRef/name").asText());
            }
            for (JsonNode env : container.path("env")) {
                if (!env.at("/valueFrom/secretKeyRef").isMissingNode()) {
                    sources.add(env.at("/valueFrom/secretKeyRef/name").asText());
                }
            }
        }
        return sources;
    }

    private List<JsonNode> all(String kind) {
        return objects.stream().filter(o -> kind.equals(o.get("kind").asText())).toList();
    }

    private JsonNode only(String kind, String name) {
        List<JsonNode> matching = all(kind).stream()
                .filter(o -> name == null || name.equals(o.at("/metadata/name").asText())).toList();
        assertEquals(1, matching.size(), "one " + kind + (name == null ? "" : " named " + name));
        return matching.get(0);
    }

    private static Set<String> names(List<JsonNode> objects) {
        Set<String> names = new HashSet<>();
        objects.forEach(o -> names.add(o.at("/metadata/name").asText()));
        return names;
    }

    private static Set<String> textValues(JsonNode array) {
        Set<String> values = new HashSet<>();
        array.forEach(v -> values.add(v.asText()));
        return values;
    }
}
