package io.execfarm.dispatcher.http;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.execfarm.localinfra.AppProcess;
import io.execfarm.localinfra.TestInfra;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** Two packaged dispatchers side by side, one worker, a real broker and Redis. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TwoDispatchersIT {

    private static final Map<String, String> KEYS = Map.of("EXECFARM_API_KEYS", "it-key:it-tenant");

    private TestInfra infra;
    private AppProcess worker;
    private AppProcess first;
    private AppProcess second;

    @BeforeAll
    void start() throws Exception {
        infra = TestInfra.start();
        worker = AppProcess.worker("it-worker", infra, List.of());
        first = AppProcess.dispatcher("dispatcher-1", infra, KEYS, List.of());
        second = AppProcess.dispatcher("dispatcher-2", infra, KEYS, List.of());
        await().atMost(Duration.ofSeconds(60)).until(() -> submit(first, "1").statusCode() == 202);
    }

    @AfterAll
    void stop() throws Exception {
        for (AppProcess app : new AppProcess[] {second, first, worker}) {
            if (app != null) {
                app.close();
            }
        }
        if (infra != null) {
            infra.close();
        }
    }

    @Test
    void submittedOnOneInstanceStreamedAndFetchedFromTheOther() throws Exception {
        String id = submit(first, "import time\\nfor i in range(3):\\n    print(i, flush=True)\\n    time.sleep(0.3)\\n'ok'")
                .jsonPath().getString("id");
        SseClient.Stream stream = SseClient.read(second.url() + "/v1/executions/" + id + "/events", "it-key", null,
                Duration.ofSeconds(60));
        assertEquals(200, stream.status());
        assertEquals("result", stream.events().get(stream.events().size() - 1).name());
        given().baseUri(second.url()).header("X-API-Key", "it-key").get("/v1/executions/" + id)
                .then().statusCode(200).body("status", equalTo("ok")).body("stdout", equalTo("0\n1\n2\n"));
        given().baseUri(first.url()).header("X-API-Key", "it-key").get("/v1/executions/" + id)
                .then().statusCode(200).body("result.value", equalTo("'ok'"));
    }

    private static Response submit(AppProcess dispatcher, String code) {
        return given().baseUri(dispatcher.url()).header("X-API-Key", "it-key").contentType(ContentType.JSON)
                .body("{\"runtime\":\"python\",\"code\":\"" + code + "\"}").post("/v1/executions");
    }
}
