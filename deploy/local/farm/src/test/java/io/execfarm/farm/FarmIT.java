package io.execfarm.farm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The ./farm launcher as a user runs it, in a state directory of its own: up with one worker, run
 * files and standard input with each exit status, a session, status, env, then down leaving no
 * process behind.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FarmIT {

    record Outcome(int exit, String stdout, String stderr) {
        @Override
        public String toString() {
            return "exit " + exit + "\n--- stdout\n" + stdout + "\n--- stderr\n" + stderr;
        }
    }

    private final Path root = Path.of(System.getProperty("execfarm.repo.root", "../../..")).toAbsolutePath().normalize();

    private static final String SECOND_TENANT_KEY = "farm-it-second-tenant-key";

    private Path work;
    private Path state;
    private String redisMarker;

    @BeforeAll
    void up() throws Exception {
        state = Files.createTempDirectory("execfarm-farm-it-");
        work = Files.createTempDirectory("execfarm-farm-it-work-");
        Outcome up = farm(null, "up", "--workers", "1");
        assertEquals(0, up.exit(), up::toString);
        assertTrue(up.stderr().contains("up: dispatcher at http://127.0.0.1:"), up::toString);
        String redisUrl = farm(null, "env").stdout().lines().filter(line -> line.startsWith("REDIS_URL="))
                .findFirst().orElseThrow();
        redisMarker = "redis-server 127.0.0.1:" + redisUrl.substring(redisUrl.lastIndexOf(':') + 1);
    }

    @AfterAll
    void down() throws Exception {
        Outcome down = farm(null, "down");
        assertEquals(0, down.exit(), down::toString);
        assertEquals(List.of(), farmProcesses(), "down leaves no process of the farm running");
    }

    @Test
    @Order(1)
    void envNamesEverythingAClientNeeds() throws Exception {
        Outcome env = farm(null, "env");
        assertEquals(0, env.exit(), env::toString);
        for (String name : List.of("KAFKA_BOOTSTRAP=", "REDIS_URL=", "DISPATCHER_URL=http://", "EXECFARM_API_KEY=")) {
            assertTrue(env.stdout().contains(name), name + " in " + env);
        }
    }

    @Test
    @Order(2)
    void runStreamsOutputAndExitsWithTheResultsStatus() throws Exception {
        Outcome ok = farm(null, "run", root.resolve("examples/hello.py").toString());
        assertEquals(0, ok.exit(), ok::toString);
        assertTrue(ok.stdout().contains("step 3: sqrt(3) = 1.7321"), ok::toString);
        assertTrue(ok.stderr().contains("=> 332833500"), ok::toString);

        Outcome error = farm(null, "run", root.resolve("examples/errors.py").toString());
        assertEquals(1, error.exit(), error::toString);
        assertTrue(error.stderr().contains("ZeroDivisionError"), error::toString);

        Path loop = Files.writeString(work.resolve("loop.py"), "print('spinning', flush=True)\nwhile True:\n    pass\n");
        Outcome timeout = farm(null, "run", "--timeout-ms", "1000", loop.toString());
        assertEquals(124, timeout.exit(), timeout::toString);
        assertTrue(timeout.stdout().contains("spinning"), "output before the timeout is kept: " + timeout);

        Outcome fromStdin = farm("print('from stdin')\n", "run", "--runtime", "python", "-");
        assertEquals(0, fromStdin.exit(), fromStdin::toString);
        assertEquals("from stdin\n", fromStdin.stdout());

        Outcome rejected = farm("1", "run", "--runtime", "cobol", "-");
        assertEquals(2, rejected.exit(), rejected::toString);
        assertTrue(rejected.stderr().contains("no live worker runs 'cobol'"), rejected::toString);

        Outcome unknown = farm(null, "run", work.resolve("notes.txt").toString());
        assertEquals(2, unknown.exit(), unknown::toString);
    }

    @Test
    @Order(3)
    void runKeepsStateInASession() throws Exception {
        Outcome first = farm("carried = 41\n", "run", "--runtime", "python", "--session", "new", "-");
        assertEquals(0, first.exit(), first::toString);
        String session = first.stderr().lines().filter(line -> line.startsWith("farm: session "))
                .map(line -> line.split(" ")[2]).findFirst().orElseThrow(() -> new AssertionError(first));
        Outcome second = farm("carried + 1\n", "run", "--runtime", "python", "--session", session, "-");
        assertEquals(0, second.exit(), second::toString);
        assertTrue(second.stderr().contains("=> 42"), second::toString);
    }

    @Test
    @Order(4)
    void statusShowsWorkersPoolsAndTheGroup() throws Exception {
        Outcome status = farm(null, "status");
        assertEquals(0, status.exit(), status::toString);
        assertTrue(status.stdout().contains("dispatcher  running"), status::toString);
        assertTrue(status.stdout().contains("worker-1    running"), status::toString);
        assertTrue(status.stdout().contains("python: "), "pool states: " + status);
        assertTrue(status.stdout().contains("24/24 partitions assigned, lag "), status::toString);
    }

    @Test
    @Order(5)
    void secretsStayWithTheirOwnerAndASecondTenantsKeyWorks() throws Exception {
        Map<String, String> env = farm(null, "env").stdout().lines().filter(line -> line.contains("="))
                .collect(Collectors.toMap(line -> line.substring(0, line.indexOf('=')),
                        line -> line.substring(line.indexOf('=') + 1)));
        String redisPassword = env.get("REDIS_URL").replaceFirst("^redis://:([^@]+)@.*$", "$1");
        assertTrue(redisPassword.length() >= 16, "Redis demands a password: " + env.get("REDIS_URL"));
        assertFalse(farm(null, "status").stdout().contains(redisPassword), "status does not print the password");
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(state)));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(state.resolve("env"))));

        HttpClient http = HttpClient.newHttpClient();
        for (Map.Entry<String, Integer> key : Map.of(SECOND_TENANT_KEY, 200, "not-a-key", 401).entrySet()) {
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(
                            URI.create(env.get("DISPATCHER_URL") + "/v1/executions?wait=true"))
                    .header("X-API-Key", key.getKey()).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"runtime\":\"python\",\"code\":\"6 * 7\"}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(key.getValue(), response.statusCode(), key.getKey() + ": " + response.body());
        }
    }

    private Outcome farm(String stdin, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(root.resolve("farm").toString()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).directory(root.toFile());
        builder.environment().put("EXECFARM_FARM_DIR", state.toString());
        builder.environment().remove("DISPATCHER_URL");
        builder.environment().remove("EXECFARM_API_KEY");
        builder.environment().put("EXECFARM_API_KEYS", SECOND_TENANT_KEY + ":team-b");
        Path out = work.resolve("out-" + System.nanoTime());
        Path err = work.resolve("err-" + System.nanoTime());
        builder.redirectOutput(out.toFile()).redirectError(err.toFile());
        Process process = builder.start();
        if (stdin != null) {
            process.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
        }
        process.getOutputStream().close();
        if (!process.waitFor(5, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            throw new AssertionError("./farm " + String.join(" ", args) + " did not finish");
        }
        return new Outcome(process.exitValue(), Files.readString(out), Files.readString(err));
    }

    /** Processes of this farm: those naming its state directory (the apps, the broker) and its Redis. */
    private List<Long> farmProcesses() throws IOException {
        List<Long> found = new ArrayList<>();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path proc : procs.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
                try {
                    String cmdline = Files.readString(proc.resolve("cmdline")).replace('\0', ' ');
                    if (cmdline.contains(state.toString()) || cmdline.startsWith(redisMarker)) {
                        found.add(Long.parseLong(proc.getFileName().toString()));
                    }
                } catch (IOException e) {
                    // Gone meanwhile.
                }
            }
        }
        return found;
    }
}
