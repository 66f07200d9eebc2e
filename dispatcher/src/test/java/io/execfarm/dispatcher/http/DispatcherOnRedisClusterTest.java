package io.execfarm.dispatcher.http;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.execfarm.dispatcher.tenancy.InFlight;
import io.execfarm.localinfra.AppProcess;
import io.execfarm.localinfra.InjectTestInfra;
import io.execfarm.localinfra.TestInfra;
import io.execfarm.localinfra.TestInfraResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import java.net.URL;
import java.time.Duration;
import java.util.List;
import java.util.Map;
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
    }

    private static final String KEY_A = "key-a";

    @TestHTTPResource("/")
    URL base;

    @InjectTestInfra
    TestInfra infra;

    @Inject
    InFlight inFlight;

    private AppProcess worker;

    @BeforeAll
    void startWorker() throws Exception {
        worker = AppProcess.worker("dispatcher-cluster-test-worker", infra, List.of(
                "execfarm.worker.runtime.python.pool.size=2", "execfarm.worker.runtime.python.pool.min-idle=2"));
        await().atMost(Duration.ofSeconds(60)).until(() -> given().baseUri(base.toString()).header("X-API-Key", KEY_A)
                .contentType(ContentType.JSON).body("{\"runtime\":\"python\",\"code\":\"1\"}").post("v1/executions")
                .statusCode() == 202);
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

    private Response runInSession(String session, String code) {
        return given().header("X-API-Key", KEY_A).contentType(ContentType.JSON)
                .body(Map.of("runtime", "python", "session", session, "code", code)).post("/v1/executions?wait=true");
    }
}
