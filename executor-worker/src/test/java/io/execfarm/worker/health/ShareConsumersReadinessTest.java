package io.execfarm.worker.health;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.allOf;
import static org.hamcrest.Matchers.containsString;

import io.execfarm.localinfra.TestInfraResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A share consumer whose loop ends while the worker runs (here: its thread interrupted) makes the
 * worker not ready. On an application of its own, which the test leaves not ready.
 */
@QuarkusTest
@QuarkusTestResource(TestInfraResource.AsWorker.class)
@TestProfile(ShareConsumersReadinessTest.OwnApplication.class)
class ShareConsumersReadinessTest {

    private static final Duration WAIT = Duration.ofSeconds(60);
    /** The first share consumer of the Python pool (DaemonThreads numbers each prefix's threads). */
    private static final String LOOP = "execfarm-shared-python-1-1";

    @Test
    void aShareConsumerWhoseLoopEndedMakesTheWorkerNotReady() {
        await().atMost(WAIT).untilAsserted(() -> given().when().get("/q/health/ready").then().statusCode(200)
                .body(containsString("share-consumers")));
        Thread loop = Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals(LOOP)).findFirst()
                .orElseThrow(() -> new AssertionError("no thread " + LOOP));
        loop.interrupt();
        await().atMost(WAIT).untilAsserted(() -> given().when().get("/q/health/ready").then().statusCode(503)
                .body(allOf(containsString("share-consumers"), containsString(LOOP), containsString("interrupted"))));
    }

    /** A profile of its own, so that this test's application is not the one the other tests share. */
    public static final class OwnApplication implements QuarkusTestProfile {

        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("execfarm.worker.runtime.python.pool.size", "1", "execfarm.worker.runtime.python.pool.min-idle",
                    "1");
        }
    }
}
