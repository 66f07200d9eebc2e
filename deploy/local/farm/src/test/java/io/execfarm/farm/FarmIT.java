package io.execfarm.farm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.execfarm.client.ClientSettings;
import io.execfarm.client.FarmClient;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The ./farm launcher as a user runs it, in a state directory of its own: up with one worker, run
 * files and standard input with each exit status, a session, status, env, then down leaving no
 * process behind.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FarmIT {

    record Outcome(int exit, String stdout, String stderr) {
        @Override
        public String toString() {
            return "exit " + exit + "\n--- stdout\n" + stdout + "\n--- stderr\n" + stderr;
        }
    }

    private final Path root = Path.of(System.getProperty("execfarm.repo.root", "../../..")).toAbsolutePath().normalize();

    private static final String SECOND_TENANT_KEY = "farm-it-second-tenant-key";
    /** A tenant of its own for the files test: the hostile test poisons its tenant's Julia processes on purpose. */
    private static final String FILES_TENANT_KEY = "farm-it-files-tenant-key";
    private static final long MEMORY_BOMB_TIMEOUT_MS = 120_000;

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

    /** Where a Java 25 is installed, up trained each application's AOT cache and started it on that cache. */
    @Test
    void theApplicationsRunOnTheirAotCachesWhereJava25IsInstalled() throws Exception {
        Optional<AppJvm.AotJava> java25 = AppJvm.find(root, System.getenv()).aotJava();
        List<String> apps = new ArrayList<>();
        for (long pid : farmProcesses()) {
            String cmdline = Files.readString(Path.of("/proc", Long.toString(pid), "cmdline")).replace('\0', ' ');
            if (cmdline.contains("quarkus-run.jar")) {
                apps.add(cmdline);
            }
        }
        assertEquals(2, apps.size(), "a dispatcher and a worker: " + apps);
        for (String app : apps) {
            if (java25.isPresent()) {
                assertTrue(app.startsWith(java25.get().java() + " ") && app.contains(" -XX:AOTCache="), app);
                // The cache may come from an earlier up with the same build, whose training log is elsewhere.
                String cache = app.substring(app.indexOf(" -XX:AOTCache=") + " -XX:AOTCache=".length()).split(" ")[0];
                assertTrue(Files.size(Path.of(cache)) > 0, "the cache it names was made: " + cache);
            } else {
                assertTrue(app.startsWith("java ") && !app.contains("-XX:AOT"), app);
            }
        }
    }

    @Test
    void envNamesEverythingAClientNeeds() throws Exception {
        Outcome env = farm(null, "env");
        assertEquals(0, env.exit(), env::toString);
        for (String name : List.of("KAFKA_BOOTSTRAP=", "KAFKA_ADMIN_PASSWORD=", "REDIS_URL=", "DISPATCHER_URL=http://", "EXECFARM_API_KEY=")) {
            assertTrue(env.stdout().contains(name), name + " in " + env);
        }
        assertFalse(env.stdout().contains("KAFKA_WORKER_PASSWORD") || env.stdout().contains("KAFKA_DISPATCHER_PASSWORD"),
                "the services' passwords are theirs: " + env);
    }

    /**
     * One command makes a tenant; a plain Kafka client, set up from what it printed as the README
     * shows, runs code as that tenant, and so does an HTTP client with its key; once removed, both
     * are refused.
     */
    @Test
    void aTenantAddedWithOneCommandRunsCodeOverKafkaAndHttpUntilRemoved() throws Exception {
        Outcome added = farm(null, "tenant", "add", "farm-it-tenant", "--partitions", "1");
        assertEquals(0, added.exit(), added::toString);
        Map<String, String> tenant = added.stdout().lines().filter(line -> line.contains("="))
                .collect(Collectors.toMap(line -> line.substring(0, line.indexOf('=')),
                        line -> line.substring(line.indexOf('=') + 1)));
        DispatcherClient http = new DispatcherClient(tenant.get("DISPATCHER_URL"), tenant.get("EXECFARM_API_KEY"));
        JsonNode overHttp = http.submitAndWait("python", "6 * 7");
        assertEquals("42", overHttp.at("/result/value").asText(), overHttp.toString());

        Outcome program = javaProgram(tenant, root.resolve("examples/RunOnFarm.java"));
        assertEquals(0, program.exit(), program::toString);
        assertEquals("step 1\nstep 2\nstep 3\n=> OK 42\n", program.stdout(), "the README's Java program: " + program);
        Outcome overKafka = farmWith(tenant, "print('over kafka')\n6 * 7\n", "run", "--kafka", "--runtime", "python", "-");
        assertEquals(0, overKafka.exit(), overKafka::toString);
        assertEquals("over kafka\n", overKafka.stdout(), overKafka::toString);
        assertTrue(overKafka.stderr().contains("=> 42"), overKafka::toString);

        kcatRunsCodeAs(tenant);

        Outcome listed = farm(null, "tenant", "list");
        assertTrue(listed.stdout().contains("farm-it-tenant  1048576 bytes/s"), listed::toString);
        Outcome removed = farm(null, "tenant", "remove", "farm-it-tenant");
        assertEquals(0, removed.exit(), removed::toString);
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30)).untilAsserted(() -> assertEquals(401,
                assertThrows(DispatcherClient.Refused.class, () -> http.submitAndWait("python", "1")).status,
                "the key is refused once the tenant is removed"));
        Exception refused = assertThrows(Exception.class,
                () -> FarmClient.connect(ClientSettings.fromEnvironment(tenant)).close());
        assertTrue(causes(refused).anyMatch(SaslAuthenticationException.class::isInstance), refused.toString());
    }

    /** A one-file Java program run as {@code java File.java} (the source launcher), with the tenant's settings. */
    private Outcome javaProgram(Map<String, String> env, Path source) throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder builder = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), source.toString());
        builder.environment().putAll(env);
        Path out = work.resolve("java-out-" + System.nanoTime());
        Path err = work.resolve("java-err-" + System.nanoTime());
        Process process = builder.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!process.waitFor(3, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            throw new AssertionError("java " + source + " did not finish");
        }
        return new Outcome(process.exitValue(), Files.readString(out), Files.readString(err));
    }

    private static java.util.stream.Stream<Throwable> causes(Throwable failure) {
        return java.util.stream.Stream.iterate(failure, java.util.Objects::nonNull, Throwable::getCause);
    }

    /**
     * kcat (librdkafka) as the README shows it: its login in a file of the owner's, a request to
     * the tenant's ingress topic, its result read back from the tenant's reply topic. Only where
     * kcat links librdkafka 2.6.1 or later: older ones send a SCRAM proof that Kafka 3.8.1 and
     * later refuse (CVE-2024-56128), and Debian 12's kcat links 2.0.2.
     */
    private void kcatRunsCodeAs(Map<String, String> tenant) throws Exception {
        if (!KcatVersion.scramWorks()) {
            System.err.println("FarmIT: kcat with librdkafka 2.6.1 or later is not installed here; its part is skipped");
            return;
        }
        Path config = Files.createFile(work.resolve("kcat-" + System.nanoTime() + ".conf"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(config, "bootstrap.servers=" + tenant.get("KAFKA_BOOTSTRAP") + "\nsecurity.protocol="
                + tenant.get("KAFKA_SECURITY_PROTOCOL") + "\nsasl.mechanisms=" + tenant.get("KAFKA_SASL_MECHANISM")
                + "\nsasl.username=" + tenant.get("KAFKA_USERNAME") + "\nsasl.password=" + tenant.get("KAFKA_PASSWORD") + "\n");
        String id = "kcat-" + java.util.UUID.randomUUID();
        Process producer = new ProcessBuilder("kcat", "-F", config.toString(), "-P", "-t", tenant.get("EXECFARM_INGRESS"),
                "-k", id).redirectErrorStream(true).start();
        producer.getOutputStream().write(("{\"v\":1,\"id\":\"" + id + "\",\"runtime\":\"python\",\"code\":\"6 * 7\","
                + "\"replyTo\":\"" + tenant.get("EXECFARM_REPLIES") + "\"}\n").getBytes(StandardCharsets.UTF_8));
        producer.getOutputStream().close();
        assertTrue(producer.waitFor(60, TimeUnit.SECONDS) && producer.exitValue() == 0,
                "kcat published: " + new String(producer.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        String result = "";
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!result.contains("\"type\":\"result\"") && System.nanoTime() < deadline) {
            Process consumer = new ProcessBuilder("kcat", "-F", config.toString(), "-C", "-t", tenant.get("EXECFARM_REPLIES"),
                    "-o", "beginning", "-e", "-q", "-f", "%k %s\\n").redirectErrorStream(true).start();
            assertTrue(consumer.waitFor(60, TimeUnit.SECONDS), "kcat read to the end of the reply topic");
            result = new String(consumer.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines()
                    .filter(line -> line.startsWith(id + " ")).filter(line -> line.contains("\"type\":\"result\""))
                    .findFirst().orElse("");
        }
        assertTrue(result.contains("\"value\":\"42\""), "kcat read its result: " + result);
    }

    @Test
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

    /**
     * The examples the demo runs, as a user would: the CSV sent with --file, what the code leaves
     * collected with --collect, and the Python plot and the Julia chart saved as pictures; a file
     * too large to ride in the request is uploaded first and still found by the code.
     */
    @Test
    void runSendsFilesAndSavesWhatComesBack() throws Exception {
        String url = farm(null, "env").stdout().lines().filter(line -> line.startsWith("DISPATCHER_URL="))
                .findFirst().orElseThrow().substring("DISPATCHER_URL=".length());
        Map<String, String> asTenant = Map.of("DISPATCHER_URL", url, "EXECFARM_API_KEY", FILES_TENANT_KEY);
        String csv = root.resolve("examples/data/readings.csv") + "=data/readings.csv";
        Path saved = work.resolve("saved-" + System.nanoTime());
        Outcome plot = farmWith(asTenant, null, "run", "--file", csv, "--collect", "out/*", "--out", saved.toString(),
                root.resolve("examples/plot.py").toString());
        assertEquals(0, plot.exit(), plot::toString);
        assertTrue(Files.readString(saved.resolve("out/summary.txt")).contains("greenhouse"), plot::toString);
        assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G'},
                Arrays.copyOf(Files.readAllBytes(saved.resolve("display-1.png")), 4), plot::toString);

        Outcome chart = farmWith(asTenant, null, "run", "--file", csv, "--collect", "out/*", "--out", saved.toString(),
                root.resolve("examples/summary.jl").toString());
        assertEquals(0, chart.exit(), chart::toString);
        assertTrue(Files.readString(saved.resolve("out/summary-julia.txt")).contains("cellar"), chart::toString);
        assertTrue(Files.readString(saved.resolve("display-1.svg")).startsWith("<svg"), chart::toString);

        Path large = Files.write(work.resolve("large.bin"), new byte[3 * 1024 * 1024]);
        Outcome uploaded = farmWith(asTenant, "import os\nprint(os.path.getsize('large.bin'))\n", "run", "--runtime",
                "python", "--file", large.toString(), "-");
        assertEquals(0, uploaded.exit(), uploaded::toString);
        assertEquals("3145728\n", uploaded.stdout());
    }

    @Test
    void runKeepsStateInASession() throws Exception {
        Outcome first = farm("carried = 41\n", "run", "--runtime", "python", "--session", "new", "-");
        assertEquals(0, first.exit(), first::toString);
        String session = first.stderr().lines().filter(line -> line.startsWith("farm: session "))
                .map(line -> line.split(" ")[2]).findFirst().orElseThrow(() -> new AssertionError(first));
        Outcome second = farm("carried + 1\n", "run", "--runtime", "python", "--session", session, "-");
        assertEquals(0, second.exit(), second::toString);
        assertTrue(second.stderr().contains("=> 42"), second::toString);
        Outcome overKafka = farm("carried + 2\n", "run", "--kafka", "--runtime", "python", "--session", session, "-");
        assertEquals(0, overKafka.exit(), overKafka::toString);
        assertTrue(overKafka.stderr().contains("=> 43"), "the same session, straight over Kafka: " + overKafka);
    }

    @Test
    void statusShowsWorkersPoolsAndTheGroup() throws Exception {
        // The farm is shared with the hostile suite, whose aftermath can keep the worker too busy
        // to answer at once; a status that could not read the pools says so, and is asked again.
        Outcome status = farm(null, "status");
        for (int attempt = 1; attempt < 4 && status.stdout().contains("did not answer"); attempt++) {
            status = farm(null, "status");
        }
        Outcome shown = status;
        assertEquals(0, shown.exit(), shown::toString);
        assertTrue(shown.stdout().contains("dispatcher  running"), shown::toString);
        assertTrue(shown.stdout().contains("worker-1    running"), shown::toString);
        assertTrue(shown.stdout().contains("python: "), "pool states: " + shown);
        assertTrue(shown.stdout().contains("24/24 partitions assigned, lag "), shown::toString);
    }

    @Test
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

    /**
     * The hostile suite against the real farm, through the dispatcher, in both runtimes: each attack
     * is contained, and the worker serves the next request. The sandbox's own cases (every syscall,
     * every failure mode) run in the conformance suite; these prove the farm as deployed.
     */
    @Test
    void hostileCodeIsContainedAndTheWorkerCarriesOn() throws Exception {
        Map<String, String> env = farm(null, "env").stdout().lines().filter(line -> line.contains("="))
                .collect(Collectors.toMap(line -> line.substring(0, line.indexOf('=')),
                        line -> line.substring(line.indexOf('=') + 1)));
        DispatcherClient tenantA = new DispatcherClient(env.get("DISPATCHER_URL"), env.get("EXECFARM_API_KEY"));
        DispatcherClient tenantB = new DispatcherClient(env.get("DISPATCHER_URL"), SECOND_TENANT_KEY);
        List<Integer> ports = List.of(port(env.get("KAFKA_BOOTSTRAP")), port(env.get("REDIS_URL")),
                port(env.get("DISPATCHER_URL")));
        Path stateFile = state.resolve("env");
        for (Hostile runtime : List.of(Hostile.PYTHON, Hostile.JULIA)) {
            String name = runtime.name().toLowerCase(Locale.ROOT);
            for (int port : ports) {
                contained(tenantA, name, runtime.connect(port), "no connection\n");
            }
            contained(tenantA, name, runtime.read(stateFile.toString()), "unreadable\n");
            JsonNode home = contained(tenantA, name, runtime.listParentOfHome(), null);
            assertEquals(2, home.get("stdout").asText().lines().count(), "its own directory and the drivers': " + home);
            JsonNode proc = contained(tenantA, name, runtime.processCount(), null);
            assertTrue(Integer.parseInt(proc.get("stdout").asText().strip()) <= 3, "only its own processes: " + proc);
            contained(tenantA, name, runtime.ptrace(), "1\n");
            // Filling 4 GiB page by page takes 13 s on an idle machine here; a busy one needs more than the default 30.
            JsonNode bomb = tenantA.submitAndWait(name, runtime.memoryBomb(), MEMORY_BOMB_TIMEOUT_MS);
            assertEquals("MemoryLimitExceeded", bomb.at("/result/error/type").asText(), bomb.toString());
            healthy(tenantA, name);
            JsonNode flood = tenantA.submitAndWait(name, runtime.gigabyteOfOutput());
            assertTrue(flood.get("truncated").asBoolean(), "1 GB of output is cut to the budget: " + flood.get("result"));
            healthy(tenantA, name);
            contained(tenantA, name, runtime.closeStdoutThenAnswer(), null, "5");
            assertEquals("crashed", tenantA.submitAndWait(name, runtime.hardExit()).get("status").asText());
            healthy(tenantA, name);
            JsonNode forks = tenantA.submitAndWait(name, runtime.forkBomb());
            assertTrue(List.of("error", "crashed", "timeout").contains(forks.get("status").asText()), forks.toString());
            healthy(tenantA, name);
            // Last: what tenant A poisons stays in A's own processes (it may well break them), never B's.
            tenantA.submitAndWait(name, runtime.poison());
            contained(tenantB, name, runtime.poisonVictim(), null, runtime.unpoisoned());
            healthy(tenantB, name);
        }
        Outcome status = farm(null, "status");
        assertTrue(status.stdout().contains("worker-1    running"), status::toString);
    }

    /** Attacks written in each runtime's language; each prints what the suite expects when contained. */
    private enum Hostile {
        PYTHON {
            String connect(int port) {
                return "import socket\ntry:\n    socket.create_connection(('127.0.0.1', " + port + "), timeout=2).close()\n"
                        + "    print('connected')\nexcept OSError:\n    print('no connection')";
            }
            String read(String path) {
                return "try:\n    print(open('" + path + "').read())\nexcept OSError:\n    print('unreadable')";
            }
            String listParentOfHome() {
                return "import os\nfor name in sorted(os.listdir(os.path.dirname(os.environ['HOME']))):\n    print(name)";
            }
            String processCount() {
                return "import os\nprint(sum(1 for name in os.listdir('/proc') if name.isdigit()))";
            }
            String ptrace() {
                return "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\nlibc.syscall(101, 0, 0, 0, 0)\n"
                        + "print(ctypes.get_errno())";
            }
            String poison() {
                return "import builtins, json\nbuiltins.len = lambda x: 42\njson.dumps = lambda *a, **k: 'poisoned'";
            }
            String poisonVictim() {
                return "import json\n(len([1, 2]), json.dumps(1))";
            }
            String unpoisoned() {
                return "(2, '1')";
            }
            String memoryBomb() {
                return "blocks = []\nwhile True:\n    blocks.append(bytearray(64 * 1024 ** 2))";
            }
            String gigabyteOfOutput() {
                return "import sys\nchunk = 'x' * (1 << 20)\nfor _ in range(1024):\n    sys.stdout.write(chunk)";
            }
            String closeStdoutThenAnswer() {
                return "import os\nos.close(1)\n5";
            }
            String hardExit() {
                return "import os\nos._exit(3)";
            }
            String forkBomb() {
                return "import os\nwhile True:\n    os.fork()";
            }
        },
        JULIA {
            String connect(int port) {
                return "import Sockets\nconnected = Ref(false)\nt = @async try\n    close(Sockets.connect(\"127.0.0.1\", "
                        + port + "))\n    connected[] = true\ncatch\nend\ntimedwait(() -> istaskdone(t), 2.0)\n"
                        + "println(connected[] ? \"connected\" : \"no connection\")";
            }
            String read(String path) {
                return "try\n    println(read(\"" + path + "\", String))\ncatch\n    println(\"unreadable\")\nend";
            }
            String listParentOfHome() {
                return "foreach(println, sort(readdir(dirname(ENV[\"HOME\"]))))";
            }
            String processCount() {
                return "println(count(name -> all(isdigit, name), readdir(\"/proc\")))";
            }
            String ptrace() {
                return "ccall(:syscall, Clong, (Clong, Clong, Clong, Clong, Clong), 101, 0, 0, 0, 0)\nprintln(Libc.errno())";
            }
            String poison() {
                return "Base.eval(:(Base.length(::Vector{Int}) = 42))";
            }
            String poisonVictim() {
                return "length([1, 2])";
            }
            String unpoisoned() {
                return "2";
            }
            String memoryBomb() {
                return "blocks = Vector{Vector{UInt8}}()\nwhile true\n    push!(blocks, ones(UInt8, 64 * 1024^2))\nend";
            }
            String gigabyteOfOutput() {
                return "chunk = \"x\"^(1 << 20)\nfor _ in 1:1024\n    print(chunk)\nend";
            }
            String closeStdoutThenAnswer() {
                return "ccall(:close, Cint, (Cint,), 1)\n5";
            }
            String hardExit() {
                return "ccall(:_exit, Cvoid, (Cint,), 3)";
            }
            String forkBomb() {
                return "while true\n    run(`sleep 100`, wait = false)\nend";
            }
        };

        abstract String connect(int port);

        abstract String read(String path);

        abstract String listParentOfHome();

        abstract String processCount();

        abstract String ptrace();

        abstract String poison();

        abstract String poisonVictim();

        abstract String unpoisoned();

        abstract String memoryBomb();

        abstract String gigabyteOfOutput();

        abstract String closeStdoutThenAnswer();

        abstract String hardExit();

        abstract String forkBomb();
    }

    /** Runs an attack that must end ok, with this stdout (unless null); the finished execution. */
    private static JsonNode contained(DispatcherClient client, String runtime, String code, String stdout)
            throws Exception {
        return contained(client, runtime, code, stdout, null);
    }

    private static JsonNode contained(DispatcherClient client, String runtime, String code, String stdout, String value)
            throws Exception {
        JsonNode done = client.submitAndWait(runtime, code);
        assertEquals("ok", done.get("status").asText(), () -> runtime + " " + code + ": " + done);
        if (stdout != null) {
            assertEquals(stdout, done.get("stdout").asText(), () -> runtime + " " + code + ": " + done);
        }
        if (value != null) {
            assertEquals(value, done.at("/result/value").asText(), () -> runtime + " " + code + ": " + done);
        }
        return done;
    }

    private static void healthy(DispatcherClient client, String runtime) throws Exception {
        contained(client, runtime, "1 + 1", null, "2");
    }

    private static int port(String address) {
        return Integer.parseInt(address.replaceFirst("^.*:(\\d+)/?$", "$1"));
    }

    private Outcome farm(String stdin, String... args) throws IOException, InterruptedException {
        return farmWith(Map.of(), stdin, args);
    }

    /** {@code ./farm} with {@code env} added to its environment. */
    private Outcome farmWith(Map<String, String> env, String stdin, String... args)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(root.resolve("farm").toString()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).directory(root.toFile());
        builder.environment().put("EXECFARM_FARM_DIR", state.toString());
        builder.environment().remove("DISPATCHER_URL");
        builder.environment().remove("EXECFARM_API_KEY");
        builder.environment().put("EXECFARM_API_KEYS",
                SECOND_TENANT_KEY + ":team-b," + FILES_TENANT_KEY + ":team-files");
        builder.environment().putAll(env);
        Path out = work.resolve("out-" + System.nanoTime());
        Path err = work.resolve("err-" + System.nanoTime());
        builder.redirectOutput(out.toFile()).redirectError(err.toFile());
        Process process = builder.start();
        if (stdin != null) {
            process.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
        }
        process.getOutputStream().close();
        // up may train the AOT caches first (Java 25 installed), a few minutes on a busy machine.
        if (!process.waitFor(10, TimeUnit.MINUTES)) {
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
