package io.execfarm.dispatcher.http;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.notNullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.execfarm.contracts.RedisKeys;
import io.execfarm.dispatcher.events.ExecutionStore;
import io.execfarm.dispatcher.tenancy.InFlight;
import io.execfarm.localinfra.AppProcess;
import io.execfarm.localinfra.InjectTestInfra;
import io.execfarm.localinfra.TestInfra;
import io.execfarm.localinfra.TestInfraResource;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.redis.datasource.RedisDataSource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** The HTTP API against a real broker, Redis and a real worker running Python. */
@QuarkusTest
@QuarkusTestResource(TestInfraResource.AsDispatcher.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DispatcherApiTest {

    private static final String KEY_A = "key-a";
    private static final ObjectMapper JSON = new ObjectMapper();

    @TestHTTPResource("/")
    URL base;

    @InjectTestInfra
    TestInfra infra;

    @Inject
    InFlight inFlight;

    @Inject
    RedisDataSource redis;

    @Inject
    MeterRegistry registry;

    private AppProcess worker;

    @BeforeAll
    void startWorker() throws Exception {
        worker = AppProcess.worker("dispatcher-test-worker", infra, List.of(
                "execfarm.worker.runtime.python.pool.size=2", "execfarm.worker.runtime.python.pool.min-idle=2"));
        // The dispatcher sees a runtime as live once its worker group has members.
        await().atMost(Duration.ofSeconds(60)).until(() -> submit(KEY_A, "{\"runtime\":\"python\",\"code\":\"1\"}")
                .statusCode() == 202);
    }

    @AfterAll
    void stopWorker() throws Exception {
        if (worker != null) {
            worker.close();
        }
    }

    @Test
    void submitAndWaitReturnsTheResultWithItsOutput() {
        given().header("X-API-Key", KEY_A).contentType(ContentType.JSON)
                .body("{\"runtime\":\"python\",\"code\":\"import sys\\nprint('hi')\\nprint('warn', file=sys.stderr)\\n6 * 7\"}")
                .when().post("/v1/executions?wait=true")
                .then().statusCode(200)
                .header("Location", containsString("/v1/executions/"))
                .body("status", equalTo("ok"))
                .body("stdout", equalTo("hi\n"))
                .body("stderr", equalTo("warn\n"))
                .body("result.value", equalTo("42"))
                .body("result.timings.totalMs", notNullValue());
    }

    @Test
    void aSubmissionsFilesGoInAndItsCollectedFilesAndPicturesComeBack() {
        String code = "class Picture:\n    def _repr_png_(self):\n        return b'\\x89PNG'\n"
                + "rows = open('data/points.csv').read().split()\ndisplay(Picture())\n"
                + "open('summary.txt', 'w').write(str(len(rows)))";
        given().header("X-API-Key", KEY_A).contentType(ContentType.JSON)
                .body(Map.of("runtime", "python", "code", code,
                        "files", List.of(Map.of("path", "data/points.csv", "text", "x,y\n1,2\n"),
                                Map.of("path", "model.bin", "base64", "AAEC")),
                        "collect", List.of("*.txt")))
                .when().post("/v1/executions?wait=true")
                .then().statusCode(200)
                .body("status", equalTo("ok"))
                .body("displays[0].'image/png'", equalTo("iVBORw=="))
                .body("displays[0].'text/plain'", containsString("Picture object"))
                .body("result.files[0].path", equalTo("summary.txt"))
                .body("result.files[0].base64", equalTo("Mg=="))
                .body("result.files[0].sha256", equalTo("d4735e3a265e16eee03f59718b9b5d03019c07d8b6c51f90da3a666eec13ab35"));
    }

    /**
     * An upload is brought to an execution by its id; a collected file too large for the result is
     * stored and served by the id the result names, to its tenant alone; another tenant can neither
     * read nor bring it.
     */
    @Test
    void anUploadIsBroughtByItsIdAndALargeCollectedFileIsServedByItsOwn() throws Exception {
        byte[] csv = "n\n1\n2\n3\n".getBytes(StandardCharsets.UTF_8);
        String upload = given().header("X-API-Key", KEY_A).contentType("text/csv").body(csv)
                .when().post("/v1/files?name=points.csv")
                .then().statusCode(201).body("name", equalTo("points.csv")).body("size", equalTo(csv.length))
                .body("mediaType", equalTo("text/csv")).extract().path("id");
        String code = "rows = open('data.csv').read().split()\nopen('large.bin', 'wb').write(b'L' * (1536 * 1024))\n"
                + "open('small.txt', 'w').write(str(len(rows)))";
        Response done = given().header("X-API-Key", KEY_A).contentType(ContentType.JSON)
                .body(Map.of("runtime", "python", "code", code, "files", List.of(Map.of("path", "data.csv", "ref", upload)),
                        "collect", List.of("*.bin", "*.txt")))
                .post("/v1/executions?wait=true");
        assertEquals(200, done.statusCode(), done.asString());
        assertEquals("ok", done.path("status"), done.asString());
        assertEquals("large.bin", done.path("result.files[0].path"));
        assertEquals(1536 * 1024, (int) done.path("result.files[0].size"));
        String large = done.path("result.files[0].ref");
        assertEquals("NA==", done.path("result.files[1].base64"), "the small one rides in the result");
        byte[] served = given().header("X-API-Key", KEY_A).get("/v1/files/" + large)
                .then().statusCode(200).header("Content-Disposition", containsString("large.bin"))
                .extract().asByteArray();
        assertEquals(1536 * 1024, served.length);
        assertEquals(done.<String>path("result.files[0].sha256"),
                HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(served)));
        for (String id : List.of(upload, large)) {
            given().header("X-API-Key", "key-b").get("/v1/files/" + id).then().statusCode(404)
                    .body("type", containsString("file-not-found"));
        }
        given().header("X-API-Key", "key-b").contentType(ContentType.JSON)
                .body(Map.of("runtime", "python", "code", "1", "files", List.of(Map.of("path", "x.csv", "ref", upload))))
                .post("/v1/executions?wait=true")
                .then().statusCode(200).body("status", equalTo("rejected"))
                .body("result.error.type", equalTo("InputFileNotFound"));
        given().header("X-API-Key", KEY_A).delete("/v1/files/" + upload).then().statusCode(204);
        given().header("X-API-Key", KEY_A).get("/v1/files/" + upload).then().statusCode(404);
    }

    /**
     * A session's files: stored, found by its code, listed and read back, changed between requests,
     * removed; another tenant can neither read nor write them.
     */
    @Test
    void aSessionsFilesAreFoundByItsCodeAndAreItsTenantsAlone() {
        String session = createSession(KEY_A, "{\"runtime\":\"python\"}").jsonPath().getString("id");
        String file = "/v1/sessions/" + session + "/files/data/points.csv";
        given().header("X-API-Key", KEY_A).contentType("text/csv").body("x\n1\n".getBytes(StandardCharsets.UTF_8))
                .put(file).then().statusCode(200).body("path", equalTo("data/points.csv")).body("size", equalTo(4))
                .body("mediaType", equalTo("text/csv"));
        Response read = runInSession(session, "open('data/points.csv').read().split()");
        assertEquals("['x', '1']", read.path("result.value"), read.asString());
        given().header("X-API-Key", KEY_A).contentType("text/csv").body("x\n1\n2\n".getBytes(StandardCharsets.UTF_8))
                .put(file).then().statusCode(200);
        Response changed = runInSession(session, "open('data/points.csv').read().split()");
        assertEquals("['x', '1', '2']", changed.path("result.value"), "the changed file was written again: "
                + changed.asString());
        given().header("X-API-Key", KEY_A).get("/v1/sessions/" + session + "/files")
                .then().statusCode(200).body("path", equalTo(List.of("data/points.csv"))).body("size", equalTo(List.of(6)));
        assertEquals("x\n1\n2\n", given().header("X-API-Key", KEY_A).get(file).then().statusCode(200).extract().asString());
        given().header("X-API-Key", "key-b").get(file).then().statusCode(404);
        given().header("X-API-Key", "key-b").contentType("text/plain").body("theirs".getBytes(StandardCharsets.UTF_8))
                .put(file).then().statusCode(404);
        given().header("X-API-Key", "key-b").delete(file).then().statusCode(404);
        given().urlEncodingEnabled(false).header("X-API-Key", KEY_A).contentType("text/plain").body(new byte[0])
                .put("/v1/sessions/" + session + "/files/..%2Fescape.txt").then().statusCode(400);
        given().header("X-API-Key", KEY_A).delete(file).then().statusCode(204);
        given().header("X-API-Key", KEY_A).get("/v1/sessions/" + session + "/files").then().statusCode(200)
                .body("size()", equalTo(0));
        given().header("X-API-Key", KEY_A).get(file).then().statusCode(404).body("type", containsString("file-not-found"));
    }

    @Test
    void anUploadOverTheLimitIsRefusedWithItsSize() {
        given().header("X-API-Key", KEY_A).contentType("application/octet-stream").body(new byte[8 * 1024 * 1024 + 1])
                .when().post("/v1/files?name=huge.bin")
                .then().statusCode(413).body("type", containsString("file-too-large"))
                .body("detail", containsString("8388609 bytes"));
    }

    @Test
    void filesThatWouldReachOutOfTheWorkingDirectoryAreRefusedWithTheirField() {
        for (Map<String, Object> body : List.of(
                Map.<String, Object>of("files", List.of(Map.of("path", "../outside.txt", "text", "x"))),
                Map.<String, Object>of("files", List.of(Map.of("path", "/etc/cron.d/x", "text", "x"))),
                Map.<String, Object>of("files", List.of(Map.of("path", "a.txt", "base64", "not base64!"))),
                Map.<String, Object>of("files", List.of(Map.of("path", "a.txt"))),
                Map.<String, Object>of("collect", List.of("../**")))) {
            Map<String, Object> request = new java.util.HashMap<>(Map.of("runtime", "python", "code", "1"));
            request.putAll(body);
            given().header("X-API-Key", KEY_A).contentType(ContentType.JSON).body(request)
                    .when().post("/v1/executions")
                    .then().statusCode(400)
                    .body("type", containsString("invalid-request"))
                    .body("field", containsString(body.containsKey("files") ? "files[0]" : "collect[0]"));
        }
        given().header("X-API-Key", KEY_A).contentType(ContentType.JSON)
                .body(Map.of("runtime", "python", "code", "1", "files", List.of(Map.of("path", "a.txt", "text", "x"),
                        Map.of("path", "a.txt", "text", "y"))))
                .when().post("/v1/executions")
                .then().statusCode(400).body("field", equalTo("files")).body("detail", containsString("same path"));
    }

    @Test
    void submitThenStreamDeliversEveryEventAndEndsAfterTheResult() throws Exception {
        Response submitted = submit(KEY_A, "{\"runtime\":\"python\",\"code\":\"import time\\nfor i in range(3):\\n    print(i, flush=True)\\n    time.sleep(0.2)\\n'done'\"}");
        assertEquals(202, submitted.statusCode());
        String location = submitted.header("Location");
        SseClient.Stream stream = SseClient.read(location + "/events", KEY_A, null, Duration.ofSeconds(60));
        assertEquals(200, stream.status());
        List<SseClient.Event> events = stream.events();
        assertEquals("started", events.get(0).name());
        assertEquals("result", events.get(events.size() - 1).name());
        for (int i = 0; i < events.size(); i++) {
            assertEquals(Integer.toString(i), events.get(i).id(), "event ids count from 0 without gaps");
        }
        StringBuilder stdout = new StringBuilder();
        events.stream().filter(e -> "output".equals(e.name())).forEach(e -> stdout.append(json(e.data()).get("text").asText()));
        assertEquals("0\n1\n2\n", stdout.toString());
        assertEquals("'done'", json(events.get(events.size() - 1).data()).get("value").asText());
    }

    @Test
    void aLateClientGetsTheWholeStreamAndAReconnectResumesAfterItsLastEvent() throws Exception {
        Response done = given().header("X-API-Key", KEY_A).contentType(ContentType.JSON)
                .body("{\"runtime\":\"python\",\"code\":\"print('a')\\nprint('b')\\n1\"}")
                .post("/v1/executions?wait=true");
        String location = done.header("Location");
        SseClient.Stream late = SseClient.read(location + "/events", KEY_A, null, Duration.ofSeconds(30));
        assertTrue(late.events().size() >= 3, "started, output, result: " + late.events());
        assertEquals("result", late.events().get(late.events().size() - 1).name());

        SseClient.Stream resumed = SseClient.read(location + "/events", KEY_A, "0", Duration.ofSeconds(30));
        assertEquals(late.events().subList(1, late.events().size()), resumed.events(), "everything after event 0");
    }

    @Test
    void getShowsStatusResultAndOutput() {
        Response submitted = submit(KEY_A, "{\"runtime\":\"python\",\"code\":\"print('x')\\n2 + 2\"}");
        String id = submitted.jsonPath().getString("id");
        await().atMost(Duration.ofSeconds(30)).until(() -> "ok".equals(given().header("X-API-Key", KEY_A)
                .get("/v1/executions/" + id).jsonPath().getString("status")));
        given().header("X-API-Key", KEY_A).get("/v1/executions/" + id).then().statusCode(200)
                .body("id", equalTo(id)).body("runtime", equalTo("python")).body("stdout", equalTo("x\n"))
                .body("result.value", equalTo("4"));
    }

    @Test
    void cancelStopsARunningInfiniteLoop() {
        Response submitted = submit(KEY_A, "{\"runtime\":\"python\",\"code\":\"print('looping', flush=True)\\nwhile True:\\n    pass\",\"timeoutMs\":120000}");
        String id = submitted.jsonPath().getString("id");
        await().atMost(Duration.ofSeconds(30)).until(() -> "running".equals(given().header("X-API-Key", KEY_A)
                .get("/v1/executions/" + id).jsonPath().getString("status")));
        given().header("X-API-Key", KEY_A).delete("/v1/executions/" + id).then().statusCode(202)
                .body("status", equalTo("cancelling"));
        await().atMost(Duration.ofSeconds(30)).until(() -> "cancelled".equals(given().header("X-API-Key", KEY_A)
                .get("/v1/executions/" + id).jsonPath().getString("status")));
        given().header("X-API-Key", KEY_A).get("/v1/executions/" + id).then().body("stdout", equalTo("looping\n"));
        given().header("X-API-Key", KEY_A).delete("/v1/executions/" + id).then().statusCode(409)
                .contentType("application/problem+json");
    }

    @Test
    void withoutAKnownKeyThereIsNoService() {
        given().contentType(ContentType.JSON).body("{\"runtime\":\"python\",\"code\":\"1\"}")
                .post("/v1/executions").then().statusCode(401).contentType("application/problem+json")
                .header("WWW-Authenticate", containsString("X-API-Key"));
        given().header("X-API-Key", "not-a-key").get("/v1/executions/anything").then().statusCode(401);
    }

    @Test
    void anotherTenantsExecutionLooksMissing() {
        String id = submit(KEY_A, "{\"runtime\":\"python\",\"code\":\"1\"}").jsonPath().getString("id");
        given().header("X-API-Key", "key-b").get("/v1/executions/" + id).then().statusCode(404)
                .contentType("application/problem+json");
        given().header("X-API-Key", "key-b").delete("/v1/executions/" + id).then().statusCode(404);
        given().header("X-API-Key", KEY_A).get("/v1/executions/" + id).then().statusCode(200);
    }

    @Test
    void aTenantOverItsInFlightLimitIsToldToRetry() {
        Response first = submit("key-small", "{\"runtime\":\"python\",\"code\":\"import time\\ntime.sleep(5)\"}");
        assertEquals(202, first.statusCode());
        Response second = submit("key-small", "{\"runtime\":\"python\",\"code\":\"1\"}");
        assertEquals(429, second.statusCode(), second.asString());
        assertEquals("1", second.header("Retry-After"));
        assertEquals("application/problem+json", second.contentType());
        String id = first.jsonPath().getString("id");
        await().atMost(Duration.ofSeconds(30)).until(() -> "ok".equals(given().header("X-API-Key", "key-small")
                .get("/v1/executions/" + id).jsonPath().getString("status")));
        // Long before the first would stop counting on its own (its timeout and the queue timeout):
        // storing its result ended its count.
        assertEquals(202, submit("key-small", "{\"runtime\":\"python\",\"code\":\"1\"}").statusCode());
    }

    /** ./farm bench found 50 concurrent waiting calls answered 500 when Redis's client pool queue overflowed. */
    @Test
    void aBurstOfWaitingCallsWithinTheTenantsLimitIsAllAnswered() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        HttpRequest request = HttpRequest.newBuilder(base.toURI().resolve("v1/executions?wait=true"))
                .header("X-API-Key", KEY_A).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"runtime\":\"python\",\"code\":\"6 * 7\"}")).build();
        List<CompletableFuture<HttpResponse<String>>> calls = IntStream.range(0, 60)
                .mapToObj(i -> http.sendAsync(request, HttpResponse.BodyHandlers.ofString())).toList();
        for (CompletableFuture<HttpResponse<String>> call : calls) {
            HttpResponse<String> response = call.get(120, TimeUnit.SECONDS);
            assertEquals(200, response.statusCode(), response.body().substring(0, Math.min(300, response.body().length())));
            assertEquals("42", JSON.readTree(response.body()).at("/result/value").asText());
        }
    }

    @Test
    void invalidRequestsGetAProblemNamingTheField() {
        problem("{\"code\":\"1\"}", "runtime");
        problem("{\"runtime\":\"python\"}", "code");
        problem("{\"runtime\":\"python\",\"code\":\"1\",\"timeoutMs\":0}", "timeoutMs");
        problem("{\"runtime\":\"Py thon\",\"code\":\"1\"}", "runtime");
        problem("{\"runtime\":\"python\",\"code\":\"1\",\"session\":\"a b\"}", "session");
        problem("{\"runtime\":\"python\",\"code\":\"1\",\"timeoutMs\":\"soon\"}", "timeoutMs");
        problem("{\"runtime\":\"python\",\"code\":\"" + "x".repeat((1 << 20) + 1) + "\"}", "code");
        given().header("X-API-Key", KEY_A).contentType(ContentType.JSON).body("{not json")
                .post("/v1/executions").then().statusCode(400).contentType("application/problem+json")
                .body("title", equalTo("Unreadable request body"));
    }

    @Test
    void aRuntimeWithoutLiveWorkersIsRefusedAtOnceWithTheRuntimesThatHaveSome() {
        for (String runtime : List.of("julia", "cobol")) {
            given().header("X-API-Key", KEY_A).contentType(ContentType.JSON)
                    .body("{\"runtime\":\"" + runtime + "\",\"code\":\"1\"}").post("/v1/executions?wait=true")
                    .then().statusCode(400).contentType("application/problem+json")
                    .body("field", equalTo("runtime"))
                    .body("runtimes", hasItem("python"))
                    .body("detail", containsString(runtime));
        }
        assertEquals(1.0, registry.get("execfarm.live.runtime").tag("runtime", "python").gauge().value());
        assertTrue(registry.find("execfarm.live.runtime").tag("runtime", "julia").gauges().isEmpty(),
                "a runtime without workers has no row");
    }

    /** A runtime whose workers all left (its group is there, empty) is refused with 503, to be retried. */
    @Test
    void aRuntimeWhoseWorkersLeftIsRefusedWithARetryNotAsAnError() throws Exception {
        String runtime = "ruby" + UUID.randomUUID().toString().substring(0, 8);
        try (Admin admin = Admin.create(infra.kafkaAdmin().clientSettings())) {
            // What a worker group is once its last member left: committed offsets, no members.
            admin.alterConsumerGroupOffsets("execfarm-workers-" + runtime,
                    Map.of(new TopicPartition("execfarm.replies", 0), new OffsetAndMetadata(0))).all()
                    .get(30, TimeUnit.SECONDS);
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> submit(KEY_A, "{\"runtime\":\"" + runtime + "\",\"code\":\"1\"}")
                .statusCode() == 503);
        given().header("X-API-Key", KEY_A).contentType(ContentType.JSON)
                .body("{\"runtime\":\"" + runtime + "\",\"code\":\"1\"}").post("/v1/executions?wait=true")
                .then().statusCode(503).contentType("application/problem+json")
                .header("Retry-After", notNullValue())
                .body("type", containsString("workers-away"))
                .body("runtimes", hasItem("python"))
                .body("detail", containsString(runtime));
        createSession(KEY_A, "{\"runtime\":\"" + runtime + "\"}").then().statusCode(503)
                .body("type", containsString("workers-away"));
        assertTrue(registry.find("execfarm.live.runtime").tag("runtime", runtime).gauges().isEmpty(),
                "a runtime whose workers left has no row");
    }

    @Test
    void anExecutionCountsUntilItsOwnDeadlineWhateverIsAdmittedAfterIt() {
        String tenant = "tenant-expiry-" + UUID.randomUUID();
        Instant now = Instant.now();
        assertTrue(inFlight.admit(tenant, "long", now.plusSeconds(600)).await().atMost(Duration.ofSeconds(5)));
        assertTrue(inFlight.admit(tenant, "short", now.plusSeconds(2)).await().atMost(Duration.ofSeconds(5)));
        long ttl = redis.key().pttl(RedisKeys.inFlight(tenant));
        assertTrue(ttl > 590_000, "the set lives as long as its longest member; pttl " + ttl);
        assertEquals(2L, inFlight.count(tenant).await().atMost(Duration.ofSeconds(5)));
    }

    @Test
    void anExecutionCountedAlreadyIsAdmittedAgainAtTheLimit() {
        String tenant = "tenant-small";
        Instant until = Instant.now().plusSeconds(60);
        String counted = "counted-" + UUID.randomUUID();
        redis.key().del(RedisKeys.inFlight(tenant));
        try {
            assertTrue(inFlight.admit(tenant, counted, until).await().atMost(Duration.ofSeconds(5)));
            assertTrue(inFlight.admit(tenant, counted, until).await().atMost(Duration.ofSeconds(5)),
                    "the same execution, forwarded again");
            assertFalse(inFlight.admit(tenant, "other-" + UUID.randomUUID(), until).await().atMost(Duration.ofSeconds(5)));
        } finally {
            inFlight.release(tenant, counted).await().atMost(Duration.ofSeconds(5));
        }
    }

    @Test
    void liveNoticesAreSubscribedAgainAfterRedisRestarts() {
        Assumptions.assumeTrue(infra != null && infra.owned(), "needs a Redis this test started itself");
        await().atMost(Duration.ofSeconds(30)).until(() -> noticeSubscribers() == 1);
        infra.restart(TestInfra.Component.REDIS, Duration.ofSeconds(1), false);
        await().atMost(Duration.ofSeconds(30)).until(() -> noticeSubscribers() == 1);
    }

    @Test
    void aStreamSurvivesRedisBeingUnreachableForAWhile() throws Exception {
        Assumptions.assumeTrue(infra != null && infra.owned(), "needs a Redis this test started itself");
        Response submitted = submit(KEY_A, "{\"runtime\":\"python\",\"code\":\"import time\\nfor i in range(4):\\n    print(i, flush=True)\\n    time.sleep(0.5)\\n'end'\"}");
        String location = submitted.header("Location");
        infra.pause(TestInfra.Component.REDIS, Duration.ofSeconds(3));
        SseClient.Stream stream = SseClient.read(location + "/events", KEY_A, null, Duration.ofSeconds(60));
        StringBuilder stdout = new StringBuilder();
        stream.events().stream().filter(e -> "output".equals(e.name())).forEach(e -> stdout.append(json(e.data()).get("text").asText()));
        assertEquals("0\n1\n2\n3\n", stdout.toString(), "no event was lost while Redis was away");
        assertEquals("result", stream.events().get(stream.events().size() - 1).name());
    }

    @Test
    void aSessionKeepsStateAcrossExecutionsUntilItIsDeleted() {
        Response created = createSession(KEY_A, "{\"runtime\":\"python\"}");
        assertEquals(201, created.statusCode(), created.asString());
        String session = created.jsonPath().getString("id");
        assertTrue(created.header("Location").endsWith("/v1/sessions/" + session));
        assertEquals(0, created.jsonPath().getInt("snippets"));
        assertEquals(1800, created.jsonPath().getInt("idleTimeoutSeconds"));

        String define = "import math\ncarried = 41\ndef answer():\n    return carried + 1";
        runInSession(session, define).then().statusCode(200).body("status", equalTo("ok"));
        runInSession(session, "answer()").then().body("result.value", equalTo("42"));
        runInSession(session, "math.isqrt(answer() * 42)").then().body("result.value", equalTo("42"));

        given().header("X-API-Key", KEY_A).get("/v1/sessions/" + session).then().statusCode(200)
                .body("runtime", equalTo("python"))
                .body("snippets", equalTo(3))
                .body("historyBytes", equalTo(define.length() + "answer()".length() + "math.isqrt(answer() * 42)".length()))
                .body("lastUsedAt", notNullValue())
                .body("expiresAt", notNullValue());

        given().header("X-API-Key", KEY_A).delete("/v1/sessions/" + session).then().statusCode(204);
        given().header("X-API-Key", KEY_A).get("/v1/sessions/" + session).then().statusCode(404)
                .contentType("application/problem+json");
        runInSession(session, "answer()").then().statusCode(404).body("type", containsString("session-not-found"));
    }

    @Test
    void anotherTenantsSessionIsIndistinguishableFromNone() {
        String session = createSession(KEY_A, "{\"runtime\":\"python\"}").jsonPath().getString("id");
        String missing = UUID.randomUUID().toString();
        for (String id : List.of(session, missing)) {
            Response get = given().header("X-API-Key", "key-b").get("/v1/sessions/" + id);
            assertEquals(404, get.statusCode());
            assertEquals(get.jsonPath().getString("detail").replace(id, "<id>"),
                    given().header("X-API-Key", "key-b").get("/v1/sessions/" + missing).jsonPath().getString("detail")
                            .replace(missing, "<id>"));
            given().header("X-API-Key", "key-b").delete("/v1/sessions/" + id).then().statusCode(404);
            submit("key-b", "{\"runtime\":\"python\",\"session\":\"" + id + "\",\"code\":\"1\"}").then()
                    .statusCode(404).body("type", containsString("session-not-found"));
        }
        given().header("X-API-Key", KEY_A).get("/v1/sessions/" + session).then().statusCode(200);
    }

    @Test
    void badSessionRequestsAreRefusedWithTheReason() {
        createSession(KEY_A, "{}").then().statusCode(400).body("field", equalTo("runtime"));
        createSession(KEY_A, "{\"runtime\":\"cobol\"}").then().statusCode(400).body("type", containsString("no-live-workers"));
        createSession(KEY_A, "{\"runtime\":\"python\",\"idleTimeoutSeconds\":999999}").then().statusCode(400)
                .body("field", equalTo("idleTimeoutSeconds")).body("detail", containsString("at most 1800"));
        createSession(KEY_A, "{\"runtime\":\"python\",\"idleTimeoutSeconds\":0}").then().statusCode(400)
                .body("field", equalTo("idleTimeoutSeconds"));
        createSession(KEY_A, "not json").then().statusCode(400);
        given().contentType(ContentType.JSON).body("{\"runtime\":\"python\"}").post("/v1/sessions").then().statusCode(401);
    }

    @Test
    void aSessionEndsAfterItsIdleTimeout() throws Exception {
        String session = createSession(KEY_A, "{\"runtime\":\"python\",\"idleTimeoutSeconds\":2}").jsonPath().getString("id");
        runInSession(session, "x = 1").then().statusCode(200).body("status", equalTo("ok"));
        await().atMost(Duration.ofSeconds(30)).until(() ->
                given().header("X-API-Key", KEY_A).get("/v1/sessions/" + session).statusCode() == 404);
        runInSession(session, "x").then().statusCode(404).body("detail", containsString("idle timeout"));
    }

    @Test
    void openApiHealthAndMetricsAreServed() {
        given().get("/q/openapi").then().statusCode(200).body(containsString("/v1/executions/{id}/events"));
        given().get("/q/health/ready").then().statusCode(200);
        double submitsBefore = submits();
        Response held = submit(KEY_A, "{\"runtime\":\"python\",\"code\":\"import time\\ntime.sleep(20)\"}");
        assertEquals(202, held.statusCode(), held.asString());
        try {
            // Counted as the response completes, which may be just after the client has it.
            await().atMost(Duration.ofSeconds(10)).until(() -> submits() >= submitsBefore + 1);
            // The gauge is refreshed from Redis every few seconds.
            await().atMost(Duration.ofSeconds(20)).until(() -> registry.find("execfarm.tenant.in.flight")
                    .tag("tenant", "tenant-a").gauge().value() >= 1);
            given().get("/q/metrics").then().statusCode(200)
                    .body(containsString("http_server_requests_seconds_bucket"))
                    .body(containsString("execfarm_sse_clients"))
                    .body(containsString("execfarm_tenant_in_flight{tenant=\"tenant-a\"}"));
        } finally {
            given().header("X-API-Key", KEY_A).delete(held.header("Location"));
        }
    }

    private double submits() {
        return registry.find("http.server.requests").tag("method", "POST").tag("uri", "/v1/executions").timers()
                .stream().mapToDouble(timer -> timer.count()).sum();
    }

    private void problem(String body, String field) {
        given().header("X-API-Key", KEY_A).contentType(ContentType.JSON).body(body)
                .post("/v1/executions").then().statusCode(400).contentType("application/problem+json")
                .body("status", equalTo(400)).body("field", equalTo(field));
    }

    /** Without a session to the share group's topic; with one to the partition-ordered topic, keyed by the session. */
    @Test
    void requestsWithoutASessionGoToTheSharedTopicAndSessionRequestsToTheOrderedOne() {
        Response plain = given().header("X-API-Key", KEY_A).contentType(ContentType.JSON)
                .body("{\"runtime\":\"python\",\"code\":\"'shared'\"}").post("/v1/executions?wait=true");
        assertEquals(200, plain.statusCode(), plain.asString());
        String plainId = plain.jsonPath().getString("id");
        String session = createSession(KEY_A, "{\"runtime\":\"python\"}").jsonPath().getString("id");
        Response inSession = runInSession(session, "'ordered'");
        assertEquals(200, inSession.statusCode(), inSession.asString());
        String sessionRequestId = inSession.jsonPath().getString("id");

        Map<String, String> shared = recordsOf("execfarm.requests.python.shared");
        assertTrue(shared.containsKey(plainId), "the request without a session is on the shared topic");
        JsonNode published = json(shared.get(plainId));
        Duration queueTimeout = ConfigProvider.getConfig().getOptionalValue("execfarm.dispatcher.queue-timeout",
                Duration.class).orElse(Duration.ofSeconds(30));
        assertEquals(Instant.parse(published.get("submittedAt").asText()).plus(queueTimeout),
                Instant.parse(published.get("startBy").asText()),
                "no worker may start it after the dispatcher stopped waiting for it: " + published);
        Map<String, String> ordered = recordsOf("execfarm.requests.python");
        assertTrue(ordered.getOrDefault(session, "").contains(sessionRequestId),
                "the session's request is on the ordered topic, keyed by its session");
        assertTrue(shared.values().stream().noneMatch(value -> value.contains(sessionRequestId)));
    }

    /** Redis refusing the execution's record: told as that, not as Kafka's refusal, and the tenant's slot is freed. */
    @Test
    void aSubmitRedisCannotRecordIsAnsweredAsThatAndFreesItsSlot() {
        // Writes only to the in-flight sets: admission passes, the execution's record is refused.
        assertSubmitRefusedByRedis("Redis did not take the execution's record", "~" + RedisKeys.IN_FLIGHT_PREFIX + "*");
    }

    /** Redis failing the admission itself (a failover's seconds): a problem to retry, not a server error. */
    @Test
    void aSubmitWhoseAdmissionRedisFailsIsAnsweredAsThat() {
        assertSubmitRefusedByRedis("Redis could not tell whether the tenant may run more");
    }

    /**
     * A submission while Redis lets the dispatcher read every key and write only {@code writable}:
     * refused as the store's failure, to be tried again, with nothing left counted against the tenant.
     */
    private void assertSubmitRefusedByRedis(String detail, String... writable) {
        long before = inFlight.count("tenant-b").await().atMost(Duration.ofSeconds(5));
        Response refused;
        List<String> acl = new ArrayList<>(List.of("SETUSER", "default", "resetkeys", "%R~*"));
        acl.addAll(List.of(writable));
        redis.execute("ACL", acl.toArray(String[]::new));
        try {
            refused = submit("key-b", "{\"runtime\":\"python\",\"code\":\"1\"}");
        } finally {
            redis.execute("ACL", "SETUSER", "default", "resetkeys", "~*");
        }
        assertEquals(503, refused.statusCode(), refused.asString());
        assertTrue(refused.jsonPath().getString("type").endsWith("store-unavailable"), refused.asString());
        assertTrue(refused.jsonPath().getString("detail").contains(detail), refused.asString());
        assertEquals("1", refused.header("Retry-After"), "a failover's seconds pass: the client may try again");
        assertEquals(before, inFlight.count("tenant-b").await().atMost(Duration.ofSeconds(5)), "nothing left counted");
    }

    /**
     * Redis refusing to store an event for longer than the give-up time: the consumer drops that
     * event and goes on with the next, instead of holding the partition.
     */
    @Test
    void anEventRedisWillNotStoreIsDroppedAfterTheGiveUpTimeAndTheNextIsStored() throws Exception {
        String id = UUID.randomUUID().toString();
        Map<String, Object> settings = infra.kafkaAdmin().clientSettings();
        Counter dropped = registry.counter("execfarm.events.dropped");
        double droppedBefore = dropped.count();
        try (var producer = new KafkaProducer<>(settings,
                new StringSerializer(),
                new StringSerializer())) {
            redis.execute("ACL", "SETUSER", "default", "resetkeys", "%R~*");
            try {
                producer.send(new ProducerRecord<>("execfarm.replies", id,
                        "{\"v\":1,\"type\":\"started\",\"requestId\":\"" + id + "\",\"workerId\":\"w\",\"queuedMs\":1}")).get();
                await().atMost(Duration.ofSeconds(60)).until(() -> dropped.count() > droppedBefore);
            } finally {
                redis.execute("ACL", "SETUSER", "default", "resetkeys", "~*");
            }
            producer.send(new ProducerRecord<>("execfarm.replies", id,
                    "{\"v\":1,\"type\":\"result\",\"requestId\":\"" + id + "\",\"status\":\"ok\",\"value\":null,"
                            + "\"error\":null,\"truncated\":false,\"timings\":{\"queuedMs\":0,\"acquireMs\":0,"
                            + "\"execMs\":0,\"totalMs\":0},\"workerId\":\"w\",\"attempt\":1}")).get();
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> !redis.list(String.class).lrange(RedisKeys.ofRequest("events", id), 0, -1).isEmpty());
        List<String> stored = redis.list(String.class).lrange(RedisKeys.ofRequest("events", id), 0, -1);
        assertEquals(1, stored.size(), "only the result: " + stored);
        assertTrue(stored.get(0).contains("\"result\""), stored.toString());
    }

    /** Every record of {@code topic} now, by key (the last one where keys repeat). */
    private Map<String, String> recordsOf(String topic) {
        Map<String, Object> settings = infra.kafkaAdmin().clientSettings();
        settings.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        settings.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        Map<String, String> records = new HashMap<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(settings)) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (partitions.stream().anyMatch(p -> consumer.position(p) < ends.get(p)) && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(r -> records.put(r.key(), r.value()));
            }
        }
        return records;
    }

    private Response submit(String key, String body) {
        // The injected URL, not RestAssured's defaults: those are set only once tests run, after @BeforeAll.
        return given().baseUri(base.toString()).header("X-API-Key", key).contentType(ContentType.JSON).body(body)
                .post("v1/executions");
    }

    /** Connections subscribed to the dispatchers' event notices: this test's one dispatcher. */
    private long noticeSubscribers() {
        try {
            return redis.execute("PUBSUB", "NUMSUB", ExecutionStore.NOTIFICATIONS).get(1).toLong();
        } catch (RuntimeException e) {
            return -1;
        }
    }

    private Response createSession(String key, String body) {
        return given().header("X-API-Key", key).contentType(ContentType.JSON).body(body).post("/v1/sessions");
    }

    private Response runInSession(String session, String code) {
        return given().header("X-API-Key", KEY_A).contentType(ContentType.JSON)
                .body(Map.of("runtime", "python", "session", session, "code", code)).post("/v1/executions?wait=true");
    }

    private static JsonNode json(String text) {
        try {
            return JSON.readTree(text);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
