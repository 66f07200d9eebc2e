package io.execfarm.dispatcher.http;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.execfarm.contracts.RedisKeys;
import io.execfarm.dispatcher.tenancy.InFlight;
import io.execfarm.localinfra.AppProcess;
import io.execfarm.localinfra.InjectTestInfra;
import io.execfarm.localinfra.LocalInfra;
import io.execfarm.localinfra.TestInfra;
import io.execfarm.localinfra.TestInfraResource;
import io.quarkus.redis.datasource.RedisDataSource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import java.net.URL;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The dispatcher and a worker on three Kafka brokers and a Redis Cluster: submissions, live
 * streams (whose notices travel by pub/sub across the cluster's nodes), sessions and the
 * in-flight count, whose keys sit in other slots than the executions'.
 */
@QuarkusTest
@TestProfile(DispatcherOnRedisClusterTest.OnCluster.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DispatcherOnRedisClusterTest {

    /** The cluster alone: not the single broker and Redis every other dispatcher test shares. */
    public static final class OnCluster implements QuarkusTestProfile {
        @Override
        public List<TestResourceEntry> testResources() {
            return List.of(new TestResourceEntry(TestInfraResource.AsDispatcherOnCluster.class));
        }

        @Override
        public boolean disableGlobalTestResources() {
            return true;
        }

        /** Longer than a failover: the tests' 2 s would drop an event a master's loss delays. */
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("execfarm.dispatcher.reply-store-give-up-after", "PT60S");
        }
    }

    private static final String KEY_A = "key-a";

    @TestHTTPResource("/")
    URL base;

    @InjectTestInfra
    TestInfra infra;

    @Inject
    InFlight inFlight;

    @Inject
    RedisDataSource redis;

    private AppProcess worker;

    @BeforeAll
    void startWorker() throws Exception {
        worker = AppProcess.worker("dispatcher-cluster-test-worker", infra, List.of(
                "execfarm.worker.runtime.python.pool.size=2", "execfarm.worker.runtime.python.pool.min-idle=2"));
        // Answered, not just accepted: on a new three-broker cluster the worker's share consumers may be
        // given their partition half a minute after the worker counts as live (a CI run timed out so).
        await().atMost(Duration.ofSeconds(120)).ignoreExceptions().until(() -> given().baseUri(base.toString())
                .header("X-API-Key", KEY_A).contentType(ContentType.JSON)
                .body("{\"runtime\":\"python\",\"code\":\"1\"}").post("v1/executions?wait=true").statusCode() == 200);
    }

    @AfterAll
    void stopWorker() throws Exception {
        if (worker != null) {
            worker.close();
        }
    }

    @Test
    void executionsStreamsSessionsAndTheInFlightCountWork() throws Exception {
        given().header("X-API-Key", KEY_A).contentType(ContentType.JSON)
                .body("{\"runtime\":\"python\",\"code\":\"print('hi')\\n6 * 7\"}")
                .post("/v1/executions?wait=true")
                .then().statusCode(200).body("stdout", equalTo("hi\n")).body("result.value", equalTo("42"));

        Response submitted = given().header("X-API-Key", KEY_A).contentType(ContentType.JSON)
                .body("{\"runtime\":\"python\",\"code\":\"import time\\nfor i in range(3):\\n    print(i, flush=True)\\n    time.sleep(0.2)\\n'done'\"}")
                .post("/v1/executions");
        SseClient.Stream stream = SseClient.read(submitted.header("Location") + "/events", KEY_A, null,
                Duration.ofSeconds(60));
        List<SseClient.Event> events = stream.events();
        assertEquals("started", events.get(0).name());
        assertEquals("result", events.get(events.size() - 1).name());

        String session = given().header("X-API-Key", KEY_A).contentType(ContentType.JSON).body("{\"runtime\":\"python\"}")
                .post("/v1/sessions").jsonPath().getString("id");
        runInSession(session, "carried = 41").then().statusCode(200).body("status", equalTo("ok"));
        runInSession(session, "carried + 1").then().body("result.value", equalTo("42"));
        given().header("X-API-Key", KEY_A).get("/v1/sessions/" + session).then().statusCode(200)
                .body("snippets", equalTo(2));
        given().header("X-API-Key", KEY_A).delete("/v1/sessions/" + session).then().statusCode(204);
        runInSession(session, "carried").then().statusCode(404);

        await().atMost(Duration.ofSeconds(30)).until(() -> inFlight.count("tenant-a").await().atMost(Duration.ofSeconds(5)) == 0);
    }

    /**
     * The master holding the first execution's record and events SIGKILLed while six executions are
     * waited for ({@code ?wait=true}): its replica takes over within seconds, the reads and writes
     * failed meanwhile are made again, and each execution is answered with its own output.
     */
    @Test
    void executionsWaitedForWhileARedisMasterFailsOverAreAnswered() throws Exception {
        ExecutorService clients = Executors.newFixedThreadPool(6);
        try {
            List<Future<Response>> waits = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                String code = "import time\ntime.sleep(2)\nprint(" + i + ")";
                waits.add(clients.submit(() -> given().header("X-API-Key", KEY_A).contentType(ContentType.JSON)
                        .body(Map.of("runtime", "python", "code", code)).post("/v1/executions?wait=true")));
            }
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> inFlight.count("tenant-a").await().atMost(Duration.ofSeconds(5)) == 6);
            String first = redis.sortedSet(String.class).zrange(RedisKeys.inFlight("tenant-a"), 0, 0).get(0);
            int slot = redis.execute("CLUSTER", "KEYSLOT", RedisKeys.ofRequest("events", first)).toInteger();
            LocalInfra local = (LocalInfra) infra;
            String master = local.redisMaster(redis.execute("CLUSTER", "NODES").toString(), slot);
            local.restart(master, Duration.ofSeconds(6), true);

            for (int i = 0; i < waits.size(); i++) {
                Response answered = waits.get(i).get(120, TimeUnit.SECONDS);
                assertEquals(200, answered.statusCode(), answered.asString());
                assertEquals("ok", answered.jsonPath().getString("status"), answered.asString());
                assertEquals(i + "\n", answered.jsonPath().getString("stdout"), answered.asString());
            }
        } finally {
            clients.shutdownNow();
        }
    }

    private Response runInSession(String session, String code) {
        return given().header("X-API-Key", KEY_A).contentType(ContentType.JSON)
                .body(Map.of("runtime", "python", "session", session, "code", code)).post("/v1/executions?wait=true");
    }
}
