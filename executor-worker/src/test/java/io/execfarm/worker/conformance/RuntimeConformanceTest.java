package io.execfarm.worker.conformance;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.execfarm.contracts.CollectedFile;
import io.execfarm.contracts.InputFile;
import io.execfarm.contracts.Output;
import io.execfarm.contracts.Result.Status;
import io.execfarm.worker.pool.CancelSignal;
import io.execfarm.worker.pool.Lease;
import io.execfarm.worker.pool.PoolExecutor;
import io.execfarm.worker.pool.PoolSettings;
import io.execfarm.worker.pool.PoolStats;
import io.execfarm.worker.pool.ProcessPool;
import io.execfarm.worker.pool.ReusePolicy;
import io.execfarm.worker.pool.Retirement;
import io.execfarm.worker.pool.RuntimeProcessSource;
import io.execfarm.worker.pool.TimedOutcome;
import io.execfarm.worker.runtime.ExecutionOutcome;
import io.execfarm.worker.runtime.ExecutionSpec;
import io.execfarm.worker.runtime.FileLimits;
import io.execfarm.worker.runtime.KnownRuntimes;
import io.execfarm.worker.runtime.OutputSink;
import io.execfarm.worker.runtime.RuntimeDefinition;
import io.execfarm.worker.runtime.RuntimeLauncher;
import io.execfarm.worker.runtime.RuntimeProcess;
import io.execfarm.worker.runtime.RuntimeUnavailableException;
import io.execfarm.worker.sandbox.Isolation;
import io.execfarm.worker.sandbox.Sandbox;
import io.execfarm.worker.sandbox.SandboxSettings;
import io.execfarm.worker.session.SessionProcesses;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.junit.jupiter.api.parallel.ResourceLock;
import org.junit.jupiter.params.AfterParameterizedClassInvocation;
import org.junit.jupiter.params.BeforeParameterizedClassInvocation;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What every runtime must do, run against every runtime whose binary is on this machine, through
 * the real pool, sandbox and driver. Python must be present; a missing Julia is reported loudly
 * and its run is marked skipped, never passed.
 */
@ParameterizedClass(name = "{0}")
@MethodSource("runtimes")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Execution(ExecutionMode.CONCURRENT)
@ResourceLock(RuntimeConformanceTest.ONE_AT_A_TIME)
class RuntimeConformanceTest {

    /**
     * The suite runs beside the module's Kafka suites (junit-platform.properties), its own cases one
     * at a time: a class holding a lock runs its cases in its own thread, in order.
     */
    static final String ONE_AT_A_TIME = "execfarm-runtime-conformance";

    private static final long GIB = 1024L * 1024 * 1024;
    private static final String TENANT = "tenant-a";
    /** Each process's CPU cap (sandbox cpu-cores), in CPUs. */
    private static final double CPU_CAP = 1.0;
    /**
     * The pool's two slots run as the first two free uids from this one on (UidRange). The worker
     * image's build sets another: a rootful container's uids are the host's, CI builds that image
     * while this suite runs, and the container sees no lock the host holds.
     */
    private static final int UID_BASE = Integer.parseInt(System.getenv().getOrDefault("EXECFARM_TEST_UID_BASE", "62000"));
    private static final String SECRET_VARIABLE = "EXECFARM_TEST_SECRET";
    /** Where deploy/julia/install-julia puts Julia by default. */
    private static final Path INSTALLED_JULIA = Path.of("/opt/execfarm/julia-1.5.3/usr/bin/julia");
    /** Longer than CI's build of the system image beside the suite's start (about 3 min on two cores). */
    private static final Duration SYSIMAGE_WAIT = Duration.ofMinutes(15);

    /** @param strongest the strongest sandbox isolation to use (the machine may allow less) */
    record RuntimeUnderTest(RuntimeDefinition definition, Snippets snippets, boolean required, Duration timeout,
            Isolation strongest) {

        RuntimeUnderTest(RuntimeDefinition definition, Snippets snippets, boolean required, Duration timeout) {
            this(definition, snippets, required, timeout, Isolation.BUBBLEWRAP_AND_UID);
        }

        @Override
        public String toString() {
            return definition.name() + definition.flags().stream().filter(f -> f.startsWith("--sysimage="))
                    .map(f -> " (" + f + ")").findFirst().orElse("")
                    + (strongest == Isolation.BUBBLEWRAP_AND_UID ? "" : " (isolation at most " + strongest + ")");
        }
    }

    /**
     * Python always, Julia wherever it is installed. CI and the worker image's build set
     * {@code EXECFARM_REQUIRE_JULIA=true}, so a Julia that cannot run fails the build instead of
     * being skipped. The image sets {@code EXECFARM_JULIA_SYSIMAGE}: its workers run Julia on that
     * sysimage only, and so does the suite there. Julia runs last: CI builds its image while the
     * Python runs go on, which the Julia run waited for when it came second.
     */
    static Stream<RuntimeUnderTest> runtimes() {
        RuntimeDefinition python = KnownRuntimes.python();
        // Below the address space, so that a memory bomb meets the memory limit (where there is one) first.
        python = python.withConfinement(python.confinement().withAddressSpace(GIB).withMemory(GIB / 2));
        RuntimeDefinition julia = KnownRuntimes.julia().withBinary(juliaBinary());
        julia = julia.withConfinement(julia.confinement().withAddressSpace(6 * GIB).withMemory(2 * GIB));
        boolean requireJulia = Boolean.parseBoolean(System.getenv("EXECFARM_REQUIRE_JULIA"));
        String sysimage = System.getenv("EXECFARM_JULIA_SYSIMAGE");
        if (sysimage != null && !sysimage.isBlank()) {
            julia = julia.withExtraFlags(List.of("--sysimage=" + sysimage))
                    .withConfinement(julia.confinement().withAccess(julia.confinement().access().withReadOnly(Path.of(sysimage))));
        }
        return Stream.of(
                // A low address-space limit makes the memory bomb fail fast.
                new RuntimeUnderTest(python, new PythonSnippets(), true, Duration.ofSeconds(20)),
                // What a root worker without bubblewrap gets.
                new RuntimeUnderTest(python, new PythonSnippets(), true, Duration.ofSeconds(20),
                        Isolation.NAMESPACES_AND_UID),
                // What a root worker in a container without namespace support gets (the image build).
                new RuntimeUnderTest(python, new PythonSnippets(), true, Duration.ofSeconds(20),
                        Isolation.UID_ONLY),
                new RuntimeUnderTest(julia, new JuliaSnippets(), requireJulia, Duration.ofSeconds(90)));
    }

    @Parameter
    RuntimeUnderTest runtime;

    private Sandbox sandbox;
    private RuntimeLauncher launcher;
    private ProcessPool<RuntimeProcess> pool;
    private PoolExecutor executor;
    private Snippets code;
    /** A runtime as one invocation ran it. */
    private record Covered(RuntimeDefinition definition, Isolation isolation) {
    }

    /** What the invocations so far ran. */
    private final Set<Covered> covered = new HashSet<>();
    /** Why this runtime cannot run here; every test then reports itself skipped with this reason. */
    private String unavailable;

    @BeforeParameterizedClassInvocation
    void startPool(RuntimeUnderTest runtime) throws IOException {
        // One test instance serves every invocation: nothing may carry over from the previous runtime.
        unavailable = null;
        executor = null;
        sandbox = newSandbox(runtime);
        if (!covered.add(new Covered(runtime.definition(), sandbox.isolation()))) {
            // Where the machine offers less than a variant's cap (a container without namespaces),
            // variants end up with the same isolation: the suite has run that one already.
            unavailable = runtime + " would run with isolation " + sandbox.isolation() + ", as a variant before it did";
            return;
        }
        runtime.definition().flags().stream().filter(flag -> flag.startsWith("--sysimage="))
                .forEach(flag -> awaitSysimage(Path.of(flag.substring("--sysimage=".length()))));
        try {
            launcher = RuntimeLauncher.prepare(runtime.definition(), sandbox, new ObjectMapper());
        } catch (RuntimeUnavailableException e) {
            if (runtime.required()) {
                fail("the " + runtime + " runtime is required on every machine: " + e.getMessage());
            }
            String name = runtime.definition().name().toUpperCase();
            System.err.println("""

                    ################################################################################
                    ###  %s CONFORMANCE RUN SKIPPED
                    ###  %s
                    ###  Run deploy/julia/install-julia (Debian's Julia 1.5.3), or put a Julia
                    ###  >= 1.10 on PATH; CI and the worker image's build require it.
                    ################################################################################
                    """.formatted(name, e.getMessage()));
            unavailable = name + " conformance run skipped: " + e.getMessage();
            return;
        }
        System.err.printf("conformance: %s %s, sandbox isolation %s%n", runtime, launcher.version(), sandbox.isolation());
        pool = new ProcessPool<>(runtime.definition().name(), new PoolSettings(2, 2, 2, 1000, 0, ReusePolicy.TENANT),
                new RuntimeProcessSource(launcher));
        pool.open();
        executor = new PoolExecutor(pool, Duration.ofSeconds(120));
        code = runtime.snippets();
    }

    /**
     * CI builds the system image while the suite starts (.ci/run), moves it into place once built,
     * and leaves {@code <image>.failed} with the reason should the build fail: the Julia run waits
     * for one or the other.
     */
    private static void awaitSysimage(Path image) {
        Path failed = Path.of(image + ".failed");
        long started = System.nanoTime();
        long deadline = started + SYSIMAGE_WAIT.toNanos();
        try {
            if (!Files.exists(image)) {
                System.err.printf("conformance: waiting for the Julia system image %s%n", image);
            }
            while (!Files.exists(image)) {
                if (Files.exists(failed)) {
                    fail("the Julia system image " + image + " could not be built:\n" + Files.readString(failed));
                }
                if (System.nanoTime() > deadline) {
                    fail("no Julia system image at " + image + " after " + SYSIMAGE_WAIT);
                }
                Thread.sleep(1000);
            }
            System.err.printf("conformance: the system image was there after %d s%n",
                    Duration.ofNanos(System.nanoTime() - started).toSeconds());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            fail("interrupted while waiting for the Julia system image");
        }
    }

    /** A sandbox of its own: its own work root, and uids no other sandbox holds (UidRange). */
    private static Sandbox newSandbox(RuntimeUnderTest runtime) throws IOException {
        Path workRoot = Files.createTempDirectory("execfarm-conformance-" + runtime.definition().name() + "-");
        return Sandbox.create(new SandboxSettings(true, workRoot, UID_BASE, 600, CPU_CAP, 64, 64L * 1024 * 1024, 256,
                SandboxSettings.DEFAULT_TMP_BYTES,
                SandboxSettings.DEFAULT_PATH, SandboxSettings.DEFAULT_PASS_ENV, Map.of(runtime.definition().name(), 2),
                SandboxSettings.DEFAULT_UID_LOCK_DIR), runtime.strongest(),
                // CI runs as root with bubblewrap installed: there, a weaker isolation fails the run
                // instead of skipping the cases that need the strongest.
                Boolean.parseBoolean(System.getenv("EXECFARM_REQUIRE_STRONGEST_ISOLATION")) ? runtime.strongest()
                        : Isolation.NONE);
    }

    @BeforeEach
    void requireRuntime() {
        Assumptions.assumeTrue(unavailable == null, () -> unavailable);
    }

    @AfterParameterizedClassInvocation
    void closePool() {
        if (executor != null) {
            executor.close();
        }
        sandbox.close();
    }

    @Test
    void helloWorld() {
        Run run = run(code.hello());
        assertEquals(Status.OK, run.status(), run::describe);
        assertEquals("hello, world\n", run.stdout());
        assertEquals("", run.stderr());
    }

    @Test
    void lastValueIsRenderedAndAStatementHasNone() {
        Run value = run(code.lastValue());
        assertEquals(Status.OK, value.status(), value::describe);
        assertEquals("42", value.value());
        Run none = run(code.noValue());
        assertEquals(Status.OK, none.status(), none::describe);
        assertNull(none.value());
    }

    @Test
    void streamsKeepTheirOrder() {
        Run run = run(code.interleaved());
        assertEquals(Status.OK, run.status(), run::describe);
        assertEquals(List.of(new Chunk(Output.Stream.STDOUT, "one\n"), new Chunk(Output.Stream.STDERR, "two\n"),
                new Chunk(Output.Stream.STDOUT, "three\n")), run.merged());

        Run lines = run(code.manyLines(5000));
        StringBuilder expected = new StringBuilder();
        for (int i = 0; i < 5000; i++) {
            expected.append(i).append('\n');
        }
        assertEquals(expected.toString(), lines.stdout());
    }

    @Test
    void unicodeSurvivesAndInvalidBytesBecomeReplacementCharacters() {
        assertEquals("héllo 🚀 ✓\n", run(code.unicode()).stdout());
        assertEquals("a\uFFFDb\n", run(code.invalidBytes()).stdout());
    }

    @Test
    void outputBeyondTheLimitIsDroppedAndMarked() {
        Run run = run(spec(code.bigOutput(2_000_000), null, 1000), TENANT);
        assertEquals(Status.OK, run.status(), run::describe);
        assertTrue(run.outcome().truncated(), "truncated flag");
        int kept = run.stdout().getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
        assertTrue(kept <= 1000 && kept >= 900, "kept " + kept + " bytes of a 1000-byte budget");
        assertTrue(run.stdout().chars().allMatch(c -> c == 'x'));
        assertPoolHealthy();
    }

    @Test
    void runtimeErrorCarriesTypeMessageAndBacktrace() {
        Run run = run(code.runtimeError());
        assertEquals(Status.ERROR, run.status(), run::describe);
        assertEquals(code.runtimeErrorType(), run.outcome().error().type());
        assertTrue(run.outcome().error().message().contains("boom"), run::describe);
        assertNotNull(run.outcome().error().stacktrace());
        assertTrue(run.outcome().error().stacktrace().contains("explode"), run::describe);
        assertTrue(!run.outcome().error().stacktrace().contains("driver."),
                () -> "the driver's own frames are trimmed: " + run.outcome().error().stacktrace());
    }

    @Test
    void syntaxErrorIsAnError() {
        Run run = run(code.syntaxError());
        assertEquals(Status.ERROR, run.status(), run::describe);
        assertEquals(code.syntaxErrorType(), run.outcome().error().type());
        assertPoolHealthy();
    }

    @Test
    void infiniteLoopTimesOutKeepsItsOutputAndIsReplaced() {
        Run run = run(spec(code.printThenSpin(), null, 1 << 20, Duration.ofMillis(1500)), TENANT);
        assertEquals(Status.TIMEOUT, run.status(), run::describe);
        assertEquals("before\n", run.stdout());
        assertPoolHealthy();
    }

    @Test
    void cancelStopsARunningRequestAndKeepsItsOutput() throws Exception {
        CancelSignal cancel = new CancelSignal();
        CountDownLatch started = new CountDownLatch(1);
        List<Chunk> chunks = new ArrayList<>();
        CompletableFuture<TimedOutcome> outcome = CompletableFuture.supplyAsync(() -> {
            try {
                return executor.execute(spec(code.printThenSleep(60), null, 1 << 20), TENANT, (stream, text) -> {
                    synchronized (chunks) {
                        chunks.add(new Chunk(stream, text));
                        // A line may arrive in more than one chunk: cancel once all of it is here.
                        if (new Run(null, chunks).stdout().equals("started\n")) {
                            started.countDown();
                        }
                    }
                }, cancel);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        assertTrue(started.await(runtime.timeout().toSeconds(), TimeUnit.SECONDS), "the request started");
        cancel.cancel();
        TimedOutcome done = outcome.get(30, TimeUnit.SECONDS);
        assertEquals(Status.CANCELLED, done.outcome().status());
        synchronized (chunks) {
            assertEquals("started\n", new Run(done.outcome(), chunks).stdout());
        }
        assertPoolHealthy();
    }

    /** The worker stopping interrupts the threads of requests still running (the share consumer's shutdown). */
    @Test
    void anInterruptedRunEndsInInterruptedExceptionNotAProtocolViolation() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        CompletableFuture<Object> ended = new CompletableFuture<>();
        Thread running = new Thread(() -> {
            try {
                ended.complete(executor.execute(spec(code.printThenSleep(60), null, 1 << 20), TENANT,
                        (stream, text) -> started.countDown(), new CancelSignal()));
            } catch (Throwable e) {
                ended.complete(e);
            }
        });
        running.start();
        assertTrue(started.await(runtime.timeout().toSeconds(), TimeUnit.SECONDS), "the request started");
        running.interrupt();
        Object result = ended.get(30, TimeUnit.SECONDS);
        assertTrue(result instanceof InterruptedException, () -> "an interrupt is the worker stopping, so the run "
                + "ends in InterruptedException (WorkerStopping for the user), not in " + describe(result));
        assertPoolHealthy();
    }

    private static String describe(Object ended) {
        return ended instanceof TimedOutcome timed ? timed.outcome().status() + " " + timed.outcome().error() : String.valueOf(ended);
    }

    @Test
    void cancelBeforeStartMeansItNeverRuns() throws Exception {
        CancelSignal cancel = new CancelSignal();
        cancel.cancel();
        TimedOutcome done = executor.execute(spec(code.hello(), null, 1 << 20), TENANT, OutputSink.DISCARD, cancel);
        assertEquals(Status.CANCELLED, done.outcome().status());
    }

    @Test
    void exitIsACrashOfThatRequestOnly() {
        Run run = run(code.exitWith(3));
        assertEquals(Status.CRASHED, run.status(), run::describe);
        assertTrue(run.outcome().error().message().contains("exited with code 3"), run::describe);
        assertPoolHealthy();
    }

    @Test
    void abortIsACrashOfThatRequestOnly() {
        Run run = run(code.abort());
        assertEquals(Status.CRASHED, run.status(), run::describe);
        assertPoolHealthy();
    }

    @Test
    void closingStdoutHarmsNeitherTheRequestNorTheNext() throws Exception {
        try (Held held = hold()) {
            Run closed = held.run(code.closeStdout());
            assertEquals(Status.OK, closed.status(), closed::describe);
            Run next = held.run(code.cLevelWrite());
            assertEquals(Status.OK, next.status(), next::describe);
            assertEquals("from C\n", next.stdout(), "fd 1 works again in the next request");
        }
    }

    @Test
    void closingTheFrameChannelIsACrash() {
        Run run = run(code.closeAllDescriptors());
        assertEquals(Status.CRASHED, run.status(), run::describe);
        assertPoolHealthy();
    }

    @Test
    void garbageOnTheFrameChannelIsACrash() {
        Run run = run(code.writeGarbageEverywhere());
        assertEquals(Status.CRASHED, run.status(), run::describe);
        assertPoolHealthy();
    }

    @Test
    void framesWrittenWhileNoRequestRunsRetireTheProcessAtOnce() throws Exception {
        try (Held held = hold()) {
            Run run = held.run(code.writeFramesLater());
            assertEquals(Status.OK, run.status(), run::describe);
            await().atMost(Duration.ofSeconds(30)).until(() -> !held.lease.process().isAlive());
        }
        assertPoolHealthy();
    }

    @Test
    void aForgedDoneEndsItsRequestAndTheDriversOwnDoneAfterItRetiresTheProcess() throws Exception {
        try (Held held = hold()) {
            String id = UUID.randomUUID().toString();
            Run run = held.run(new ExecutionSpec(id, code.forgeDone(id), null, 1 << 20, runtime.timeout()));
            assertEquals("forged", run.value(), () -> "the forged done came first: " + run.describe());
            await().atMost(Duration.ofSeconds(30)).until(() -> !held.lease.process().isAlive());
        }
        assertPoolHealthy();
    }

    @Test
    void aFrameForAnotherRequestIsACrashWhoseMessageQuotesNoneOfIt() {
        Run run = run(code.writeOutputFrame("another-request", 1 << 20));
        assertEquals(Status.CRASHED, run.status(), run.outcome()::toString);
        assertEquals("ProtocolViolation", run.outcome().error().type(), run.outcome()::toString);
        assertTrue(run.outcome().error().message().length() < 1000, run.outcome()::toString);
        assertPoolHealthy();
    }

    @Test
    void anOversizedOutputFrameForItsOwnRequestIsACrash() {
        String id = UUID.randomUUID().toString();
        Run run = run(new ExecutionSpec(id, code.writeOutputFrame(id, 256 * 1024), null, 1 << 20, runtime.timeout()),
                TENANT);
        assertEquals("ProtocolViolation", run.outcome().error().type(), run.outcome()::toString);
        assertPoolHealthy();
    }

    @Test
    void aLineLongerThanAnyFrameIsACrashAndTheWorkerKeepsItsMemory() {
        Run run = run(code.writeEndlessLine(20 << 20));
        assertEquals(Status.CRASHED, run.status(), run.outcome()::toString);
        assertEquals("ProtocolViolation", run.outcome().error().type(), run.outcome()::toString);
        assertPoolHealthy();
    }

    @Test
    void cLevelWritesToFileDescriptorOneAreCaptured() {
        Run run = run(code.cLevelWrite());
        assertEquals(Status.OK, run.status(), run::describe);
        assertEquals("from C\n", run.stdout());
    }

    @Test
    void childProcessOutputIsCaptured() {
        Run run = run(code.childProcessOutput());
        assertEquals(Status.OK, run.status(), run::describe);
        assertEquals("from child\n", run.stdout());
    }

    @Test
    void requestsAreIsolatedOnTheSameProcess() throws Exception {
        try (Held held = hold()) {
            assertEquals(Status.OK, held.run(code.defineCarriedValue()).status());
            Run next = held.run(code.useCarriedValue());
            assertEquals(Status.ERROR, next.status(), "a fresh namespace per request: " + next.describe());

            assertEquals(Status.OK, held.run(code.startBackgroundSleeper()).status());
            Run count = held.run(code.countSleepers());
            assertEquals("0", count.value(), "a child process does not outlive its request: " + count.describe());
        }
    }

    /**
     * Under reuse=always one process serves every tenant, so what one tenant's request leaves is
     * another's problem: a pool of one process, tenant A's hostile requests, tenant B's after each.
     */
    @Test
    void underReuseAlwaysNothingOfOneTenantsRequestReachesAnothers() throws Exception {
        assumeEvidenceOfRest();
        // Its own sandbox: a pool's slot 0 in this one would have the uid of the suite pool's slot 0,
        // and killing everything of that uid (what retiring a process does without a pid namespace)
        // would kill the suite pool's process too.
        try (Sandbox own = newSandbox(runtime);
                PoolExecutor always = new PoolExecutor(new ProcessPool<>(runtime.definition().name() + "-always",
                        new PoolSettings(1, 1, 1, 1000, 0, ReusePolicy.ALWAYS),
                        new RuntimeProcessSource(RuntimeLauncher.prepare(runtime.definition(), own, new ObjectMapper()))),
                        Duration.ofSeconds(120))) {
            ProcessPool<RuntimeProcess> shared = always.pool();
            shared.open();
            Run left = run(always, code.leaveRunning(), "tenant-a");
            assertEquals(Status.OK, left.status(), left::describe);
            Run next = run(always, code.hello(), "tenant-b");
            assertEquals("hello, world\n", next.stdout(), () -> "nothing of tenant A prints here: " + next.describe());

            Run timer = run(always, code.leaveTimer(), "tenant-a");
            assertEquals(Status.OK, timer.status(), timer::describe);
            Run after = run(always, code.helloAfterHalfASecond(), "tenant-b");
            assertEquals("hello, world\n", after.stdout(), () -> "nothing of tenant A's fires here: " + after.describe());

            Run later = run(always, code.startSleeperLater(), "tenant-a");
            assertEquals(Status.OK, later.status(), later::describe);
            Thread.sleep(1500);
            Run count = run(always, code.countSleepers(), "tenant-b");
            assertEquals("0", count.value(), () -> "tenant B sees no sleeper of tenant A's: " + count.describe());

            if (sandbox.isolation().privateView()) {
                for (String dir : List.of(".", "/dev/shm")) {
                    Run fill = run(always, code.fill(dir), "tenant-a");
                    assertEquals(Status.OK, fill.status(), fill::describe);
                    Run list = run(always, code.listDirectory(dir), "tenant-b");
                    assertEquals("", list.stdout(), () -> "tenant B finds nothing of tenant A's in " + dir + ": "
                            + list.describe());
                }
            }
            assertTrue(notAtRest(shared.stats()) >= 3, () -> "every hostile process was retired: " + shared.stats());
        }
    }

    private Run run(PoolExecutor on, String source, String tenant) throws InterruptedException {
        Collector collector = new Collector();
        TimedOutcome timed = on.execute(spec(source, null, 1 << 20), tenant, collector, new CancelSignal());
        return new Run(timed.outcome(), collector.chunks());
    }

    @Test
    void anInnocentRequestLeavesItsProcessAtRest() {
        PoolStats before = pool.stats();
        for (int i = 0; i < 6; i++) {
            Run run = run(code.tickEvery100Ms(2));
            assertEquals(Status.OK, run.status(), run::describe);
        }
        assertPoolHealthy();
        PoolStats after = pool.stats();
        assertEquals(before.retirements(), after.retirements(), () -> "no process retired: " + after);
    }

    @Test
    void codeLeftRunningAfterItsResultServesNoFurtherRequest() {
        assumeEvidenceOfRest();
        assertRetiredBeforeTheNextRequests(code.leaveRunning(), code.hello());
    }

    @Test
    void somethingLeftWaitingOnATimerFiresInNoLaterRequest() {
        assertRetiredBeforeTheNextRequests(code.leaveTimer(), code.helloAfterHalfASecond());
    }

    @Test
    void aPosixTimerTheRequestArmedFiresInNoLaterRequest() throws IOException {
        Assumptions.assumeTrue(!ownUid() || mayTraceOtherUids(), "the worker may not read the timers of a process of "
                + "another uid here (it takes CAP_SYS_PTRACE, which a build container's root lacks)");
        assertRetiredBeforeTheNextRequests(code.leavePosixTimer(), code.helloAfterHalfASecond());
    }

    /** Whether this JVM holds CAP_SYS_PTRACE (bit 19 of its effective capabilities). */
    private static boolean mayTraceOtherUids() throws IOException {
        return Files.readAllLines(Path.of("/proc/self/status")).stream()
                .filter(line -> line.startsWith("CapEff:"))
                .map(line -> new BigInteger(line.substring("CapEff:".length()).strip(), 16))
                .anyMatch(caps -> caps.testBit(19));
    }

    /**
     * Runs {@code leaver}, whose process must be retired by the check after its own request: nothing
     * looks at an idle process again until it is handed out, and by then what was left may already
     * print into that request. Then four requests of {@code helloWorld} print only their own.
     */
    private void assertRetiredBeforeTheNextRequests(String leaver, String helloWorld) {
        long before = notAtRest(pool.stats());
        Run run = run(leaver);
        assertEquals(Status.OK, run.status(), run::describe);
        await().atMost(Duration.ofSeconds(30)).until(() -> notAtRest(pool.stats()) > before);
        assertTheNextRequestsPrintOnlyTheirOwn(helloWorld);
    }

    @Test
    void whatATaskTheRequestQueuedPrintsIsThatRequestsOutput() {
        Assumptions.assumeTrue(runtime.definition().name().equals("julia"),
                "Julia's @async tasks wait in the driver thread's queue; Python's threads run on their own");
        Run queued = run("@async println(\"queued\")\n@async (print(\"one, \"); yield(); println(\"two\"))\n7");
        assertEquals("queued\none, two\n", queued.stdout(), queued::describe);
        assertTheNextRequestsPrintOnlyTheirOwn(code.hello());
    }

    @Test
    void aTaskTheRequestSpawnedPrintsIntoNoLaterRequest() {
        Assumptions.assumeTrue(runtime.definition().name().equals("julia"),
                "Threads.@spawn's shared queue is Julia's; Python's threads run on their own");
        Run spawned = run("Threads.@spawn println(\"spawned\")\n7");
        assertEquals("7", spawned.value(), spawned::describe);
        // Waiting on a timer enters the scheduler, which would run a task still queued there.
        assertTheNextRequestsPrintOnlyTheirOwn("sleep(0.01)\nprintln(\"hello, world\")");
    }

    @Test
    void codeWaitingForTheNextCommandInTheDriversPlaceAnswersNoFurtherRequest() {
        assumeEvidenceOfRest();
        long before = notAtRest(pool.stats());
        Run run = run(code.answerTheNextRequest());
        assertEquals("forged", run.value(), () -> "its own done came first: " + run.describe());
        assertTheNextRequestsPrintOnlyTheirOwn(code.hello());
        await().atMost(Duration.ofSeconds(30)).until(() -> notAtRest(pool.stats()) > before);
        assertPoolHealthy();
    }

    @Test
    void aProcessUsesNoMoreCpuThanItsCap() {
        assumeEvidenceOfRest();
        Assumptions.assumeTrue(Runtime.getRuntime().availableProcessors() >= 2,
                "one CPU: two spinners use no more than one, capped or not");
        Run run = run(code.spinTwoProcesses());
        assertEquals(Status.OK, run.status(), run::describe);
        // Uncapped, two spinners on an idle machine of two or more CPUs use two of them.
        assertTrue(Double.parseDouble(run.value()) <= CPU_CAP * 1.3, () -> "the sandbox caps a process at "
                + CPU_CAP + " CPU: " + run.describe());
    }

    @Test
    void aChildStartedAfterTheCleanupIsFoundAndItsProcessRetired() throws Exception {
        assumeEvidenceOfRest();
        long before = notAtRest(pool.stats());
        Run run = run(code.startSleeperLater());
        assertEquals(Status.OK, run.status(), run::describe);
        Thread.sleep(1500);
        for (int i = 0; i < 4; i++) {
            Run count = run(code.countSleepers());
            assertEquals("0", count.value(), () -> "no request sees the sleeper: " + count.describe());
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> notAtRest(pool.stats()) > before);
        await().atMost(Duration.ofSeconds(30)).until(() -> sleepersOnTheMachine() == 0);
    }

    @Test
    void filesAndSharedMemoryStopAtTheirCapAndAreGoneAfterTheRequest() {
        Assumptions.assumeTrue(sandbox.isolation().privateView(), "caps need bubblewrap's tmpfs mounts");
        long capMiB = SandboxSettings.DEFAULT_TMP_BYTES >> 20;
        for (String dir : List.of(".", "/dev/shm", "/tmp")) {
            // /tmp holds the mount points of the working directory and the driver scripts.
            String fresh = run(code.listDirectory(dir)).stdout();
            Run fill = run(code.fill(dir));
            assertEquals(Status.OK, fill.status(), fill::describe);
            assertTrue(Long.parseLong(fill.value()) <= capMiB, () -> dir + " took more than " + capMiB + " MiB: "
                    + fill.describe());
            assertTrue(Long.parseLong(fill.value()) >= capMiB / 2, () -> dir + " took less than expected: "
                    + fill.describe());
            for (int i = 0; i < 2; i++) {
                Run list = run(code.listDirectory(dir));
                assertEquals(fresh, list.stdout(), () -> "nothing of it is left in " + dir + ": " + list.describe());
            }
        }
        Run dev = run(code.fill("/dev"));
        assertEquals("0", dev.value(), () -> "/dev is read-only: " + dev.describe());
        assertPoolHealthy();
    }

    @Test
    void sessionNamespacesPersistAcrossRequests() throws Exception {
        String session = "s-" + UUID.randomUUID();
        try (Held held = hold()) {
            assertEquals(Status.OK, held.run(code.defineCarriedValue(), session).status());
            assertEquals(Status.OK, held.run(code.defineFunctionUsingCarriedValue(), session).status());
            Run answer = held.run(code.callAnswer(), session);
            assertEquals("42", answer.value(), answer::describe);
            assertEquals(Status.ERROR, held.run(code.useCarriedValue()).status(), "outside the session it is unknown");
            assertEquals("42", held.run(code.callAnswer(), session).value(), "and the session still has it");
        }
    }

    @Test
    void aPinnedSessionKeepsVariablesFunctionsTypesAndImports() throws Exception {
        try (SessionUnderTest session = new SessionUnderTest(new ArrayList<>())) {
            session.define(code.defineCarriedValue(), code.defineFunctionUsingCarriedValue(), code.importModule(),
                    code.defineType(), code.defineRandomToken());
            assertEquals("42", session.run(code.callAnswer()).value());
            assertEquals("4", session.run(code.useImportedModule()).value());
            assertEquals("42", session.run(code.useType()).value());
            String token = session.run(code.readToken()).value();
            assertEquals(token, session.run(code.readToken()).value(), "the same process ran every request");
            assertEquals(0, session.replayed, "nothing was replayed on the pinned path");
            assertEquals(Status.ERROR, run(code.useCarriedValue()).status(), "a request without the session sees none of it");
        }
    }

    @Test
    void aSessionWhoseProcessDiesIsRebuiltFromItsHistory() throws Exception {
        try (SessionUnderTest session = new SessionUnderTest(new ArrayList<>())) {
            session.define(code.defineCarriedValue(), code.defineFunctionUsingCarriedValue(), code.importModule(),
                    code.defineType(), code.defineRandomToken(), code.hello());
            String token = session.run(code.readToken()).value();
            int logged = session.history.size();

            Run crash = session.run(code.exitWith(3));
            assertEquals(Status.CRASHED, crash.status(), crash::describe);
            Run answer = session.run(code.callAnswer());
            assertEquals("42", answer.value(), answer::describe);
            assertEquals("", answer.stdout(), "the replayed history's output is discarded");
            assertEquals(logged, session.replayed, "the whole history was replayed on a fresh process");
            assertEquals("4", session.run(code.useImportedModule()).value());
            assertEquals("42", session.run(code.useType()).value());
            assertTrue(!token.equals(session.run(code.readToken()).value()),
                    "a different process: the replay computed a new token");

            Run timeout = session.run(code.printThenSpin(), Duration.ofSeconds(2));
            assertEquals(Status.TIMEOUT, timeout.status(), timeout::describe);
            assertEquals("42", session.run(code.callAnswer()).value(), "rebuilt again after the timeout");
        }
    }

    /** A session's files are there before its code runs, written again once changed, and after a rebuild. */
    @Test
    void aSessionsFilesAreThereBeforeItsCodeAndAfterARebuild() throws Exception {
        try (SessionUnderTest session = new SessionUnderTest(new ArrayList<>())) {
            session.putFile("data/in.txt", "first");
            session.define(code.defineCarriedValue());
            Run first = session.run(code.readFile("data/in.txt"));
            assertEquals("first", first.stdout().strip(), first::describe);
            session.putFile("data/in.txt", "second");
            Run second = session.run(code.readFile("data/in.txt"));
            assertEquals("second", second.stdout().strip(), "written again once changed: " + second.describe());
            assertEquals(Status.CRASHED, session.run(code.exitWith(3)).status());
            Run rebuilt = session.run(code.readFile("data/in.txt"));
            assertEquals("second", rebuilt.stdout().strip(), rebuilt::describe);
            assertTrue(session.replayed > 0, "the process was rebuilt");
        }
    }

    @Test
    void aSessionMovesBetweenWorkersAndCatchesUpWithWhatRanElsewhere() throws Exception {
        List<String> history = new ArrayList<>();
        try (SessionUnderTest first = new SessionUnderTest(history); SessionUnderTest second = new SessionUnderTest(history)) {
            first.define(code.defineCarriedValue(), code.defineFunctionUsingCarriedValue());
            assertEquals("42", second.run(code.callAnswer()).value(), "the second worker rebuilt it");
            second.define(code.defineType());
            first.replayed = 0;
            assertEquals("42", first.run(code.useType()).value(), "the first worker caught up with the second's request");
            assertEquals(2, first.replayed, "only the tail it had not seen was replayed");
        }
    }

    @Test
    void aRequestAdmittedWhileAnotherOfItsSessionRanSeesThatRequestsEffects() throws Exception {
        try (SessionUnderTest session = new SessionUnderTest(Collections.synchronizedList(new ArrayList<>()))) {
            session.define(code.defineCarriedValue());
            CompletableFuture<Run> slow = CompletableFuture.supplyAsync(() -> session.runUnchecked(
                    code.printThenSleep(1) + "\n" + code.defineFunctionUsingCarriedValue()));
            // Admitted once the slow request holds the session's process.
            await().atMost(Duration.ofSeconds(60)).until(() -> !session.processes.idle().containsKey(session.id));
            Run answer = session.run(code.callAnswer());
            assertEquals(Status.OK, slow.get(60, TimeUnit.SECONDS).status());
            assertEquals("42", answer.value(), () -> "it waited for the request before it: " + answer.describe());
        }
    }

    @Test
    void theWorkersSecretsAreInvisible() throws Exception {
        String secret = System.getenv(SECRET_VARIABLE);
        assertNotNull(secret, SECRET_VARIABLE + " must be set for this test (the build sets it)");
        Run env = run(code.secretSightings(secret, ProcessHandle.current().pid()));
        assertEquals(Status.OK, env.status(), env::describe);
        assertEquals("0", env.value(), "places where user code saw the worker's secret");

        Assumptions.assumeTrue(ownUid(),
                "files readable by the worker are unreadable to user code only with a uid of its own (isolation "
                        + sandbox.isolation() + ")");
        Path dir = Files.createTempDirectory("execfarm-secret-");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path file = Files.writeString(dir.resolve("credentials"), secret);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        try {
            Run read = run(code.readFile(file.toString()));
            assertEquals("unreadable\n", read.stdout(), read::describe);
        } finally {
            Files.delete(file);
            Files.delete(dir);
        }
    }

    @Test
    void userCodeReachesNoNetworkNotEvenTheWorkersOwnPorts() throws Exception {
        Assumptions.assumeTrue(sandbox.isolation().privateView(),
                "processes have a network of their own only with bubblewrap (isolation " + sandbox.isolation() + ")");
        try (ServerSocket worker = new ServerSocket(0, 50, InetAddress.getByName("0.0.0.0"))) {
            List<String> hosts = new ArrayList<>(List.of("127.0.0.1"));
            NetworkInterface.networkInterfaces().flatMap(NetworkInterface::inetAddresses)
                    .filter(a -> a instanceof Inet4Address && !a.isLoopbackAddress()).findFirst()
                    .ifPresent(a -> hosts.add(a.getHostAddress()));
            for (String host : hosts) {
                try (Socket reachable = new Socket(host, worker.getLocalPort())) {
                    assertTrue(reachable.isConnected(), "the worker itself reaches " + host);
                }
                Run run = run(code.connect(host, worker.getLocalPort()));
                assertEquals("no connection\n", run.stdout(), () -> host + ": " + run.describe());
            }
        }
        assertPoolHealthy();
    }

    @Test
    void userCodeSeesNeitherTheWorkersFilesNorOtherProcessesDirectories() throws Exception {
        Assumptions.assumeTrue(sandbox.isolation().privateView(),
                "processes have a file system view of their own only with bubblewrap (isolation "
                        + sandbox.isolation() + ")");
        Path dir = Files.createTempDirectory("execfarm-visible-");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path file = Files.writeString(dir.resolve("state"), "the worker's");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        try {
            Run read = run(code.readFile(file.toString()));
            assertEquals("unreadable\n", read.stdout(), read::describe);
            // The pool keeps two processes, each with a directory in the work root; only its own shows.
            Run home = run(code.listDirectory(sandbox.driverDirectory().getParent().toString()));
            assertEquals(Status.OK, home.status(), home::describe);
            List<String> names = home.stdout().lines().toList();
            assertEquals(2, names.size(), () -> "its own directory and the drivers': " + names);
            assertTrue(names.contains("drivers"), names::toString);
            Run proc = run(code.listDirectory("/proc"));
            long pids = proc.stdout().lines().filter(name -> name.chars().allMatch(Character::isDigit)).count();
            assertTrue(pids <= 3, () -> "only its own namespace's processes: " + proc.stdout());
        } finally {
            Files.delete(file);
            Files.delete(dir);
        }
    }

    /**
     * x86_64 numbers, with arguments under which each call would succeed, or fail otherwise than
     * with EPERM, were it allowed (ptrace(TRACEME), keyctl(GET_KEYRING_ID), io_uring_setup with no
     * parameters: EFAULT); the rest need privileges the process lacks anyway.
     */
    private static final Map<String, List<Long>> REFUSED_SYSCALLS = new LinkedHashMap<>();

    static {
        REFUSED_SYSCALLS.put("ptrace", List.of(101L, 0L, 0L, 0L, 0L));
        REFUSED_SYSCALLS.put("keyctl", List.of(250L, 0L, -2L, 1L));
        REFUSED_SYSCALLS.put("io_uring_setup", List.of(425L, 1L, 0L));
        REFUSED_SYSCALLS.put("perf_event_open", List.of(298L, 0L, 0L, -1L, -1L, 0L));
        REFUSED_SYSCALLS.put("userfaultfd", List.of(323L, 0L));
        REFUSED_SYSCALLS.put("bpf", List.of(321L, 0L, 0L, 0L));
        REFUSED_SYSCALLS.put("mount", List.of(165L, 0L, 0L, 0L, 0L, 0L));
        REFUSED_SYSCALLS.put("unshare (new user namespace)", List.of(272L, 0x10000000L));
        REFUSED_SYSCALLS.put("init_module", List.of(175L, 0L, 0L, 0L));
        REFUSED_SYSCALLS.put("reboot", List.of(169L, 0L, 0L, 0L, 0L));
    }

    @Test
    void aSyscallFilterRefusesWhatCodeInAFarmNeverNeeds() {
        Assumptions.assumeTrue(sandbox.isolation().privateView(),
                "the syscall filter comes with bubblewrap (isolation " + sandbox.isolation() + ")");
        Assumptions.assumeTrue(System.getProperty("os.arch").equals("amd64"), "the system call numbers are x86_64's");
        Run status = run(code.readFile("/proc/self/status"));
        assertTrue(status.stdout().contains("Seccomp:\t2"), status::describe);
        Run run = run(code.syscalls(REFUSED_SYSCALLS));
        assertEquals(Status.OK, run.status(), run::describe);
        String expected = REFUSED_SYSCALLS.keySet().stream().map(name -> name + " 1\n").collect(Collectors.joining());
        assertEquals(expected, run.stdout(), "every call refused with EPERM");
        assertPoolHealthy();
    }

    @Test
    void memoryBombIsContained() {
        Run run = run(code.memoryBomb());
        if (sandbox.limitsMemory()) {
            assertEquals(Status.CRASHED, run.status(), run::describe);
            assertEquals(ExecutionOutcome.MEMORY_LIMIT_EXCEEDED, run.outcome().error().type(), run::describe);
            assertTrue(run.outcome().error().message().contains("memory limit of "), run::describe);
        } else {
            // Without a control group only RLIMIT_AS stops it: the runtime's own error, or a crash.
            assertTrue(Set.of(Status.ERROR, Status.CRASHED).contains(run.status()), run::describe);
        }
        assertPoolHealthy();
    }

    @Test
    void forkBombIsContained() throws Exception {
        Assumptions.assumeTrue(ownUid(),
                "a fork bomb is bounded only where each process has a uid of its own (isolation "
                        + sandbox.isolation() + ")");
        // Counted with the pool at rest both times, so that its own processes (a slot being
        // refilled holds none, then several) are the same before and after.
        long before = sandboxProcessesOnceThePoolRests();
        Run run = run(spec(code.forkBomb(), null, 1 << 20, Duration.ofSeconds(3)), TENANT);
        assertEquals(Status.TIMEOUT, run.status(), run::describe);
        // Generous: each try first waits for the pool to rest, and a Julia replacing the retired
        // process takes seconds to warm up where the machine is busy (an image build, under CI).
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            long after = sandboxProcessesOnceThePoolRests();
            assertTrue(after <= before + 4, "processes before " + before + ", after " + after);
        });
        assertPoolHealthy();
    }

    @Test
    void inputFilesAreThereAndCollectedFilesComeBackWithTheWorkersDigest() {
        Run run = run(new ExecutionSpec(UUID.randomUUID().toString(), code.sumInputIntoOutput(), null, 1 << 20,
                runtime.timeout(), List.of(InputFile.of("data/in.csv", "n\n1\n2\n3\n".getBytes(StandardCharsets.UTF_8))),
                List.of("out/*.txt"), FileLimits.DEFAULT), TENANT);
        assertEquals(Status.OK, run.status(), run::describe);
        assertEquals("rows 4\n", run.stdout());
        assertEquals(List.of(CollectedFile.inline("out/sum.txt", 1,
                "e7f6c011776e8db7cd330b54174fd76f7d0216b612387a5ffcfb81e6f0919683", "Ng==")),
                run.outcome().files());
        assertPoolHealthy();
    }

    /**
     * A link (to a file outside the working directory) is listed, never read; a file over the limit
     * is listed with its size error; matches past the count are cut with one entry saying so; and
     * the request's total holds. The worker is fine after.
     */
    @Test
    void collectionRefusesLinksFilesOverTheLimitAndMatchesPastTheCount() {
        Run run = run(new ExecutionSpec(UUID.randomUUID().toString(), code.leaveFilesToCollect(5000, 30), null, 1 << 20,
                runtime.timeout(), List.of(), List.of("out/*", "out/**/*.txt"), new FileLimits(4096, 1 << 20, 20)), TENANT);
        assertEquals(Status.OK, run.status(), run::describe);
        Map<String, CollectedFile> byPath = run.outcome().files().stream()
                .collect(Collectors.toMap(CollectedFile::path, file -> file, (a, b) -> a, LinkedHashMap::new));
        assertTrue(byPath.get("out/link.txt").error().startsWith("NotARegularFile"), byPath::toString);
        assertTrue(byPath.get("out/big.bin").error().startsWith("FileTooLarge"), byPath::toString);
        assertEquals("MA==", byPath.get("out/many/f0000.txt").base64(), byPath::toString);
        assertEquals(21, run.outcome().files().size(), "20 entries and one saying the rest were cut: " + byPath.keySet());
        assertTrue(run.outcome().files().get(20).error().startsWith("TooManyFiles"), byPath::toString);
        assertPoolHealthy();
        Run small = run(new ExecutionSpec(UUID.randomUUID().toString(), code.leaveFilesToCollect(10, 3), null, 1 << 20,
                runtime.timeout(), List.of(), List.of("out/many/*"), new FileLimits(4096, 2, 20)), TENANT);
        assertEquals(List.of("f0000.txt", "f0001.txt", "CollectLimitExceeded"), small.outcome().files().stream()
                .map(file -> file.error() == null ? file.path().substring(9) : file.error().split(":")[0]).toList(),
                "two one-byte files fit a total of two bytes, the third does not: " + small.outcome().files());
    }

    /** A working directory of more entries than collection looks at: it stops, says so, and the worker carries on. */
    @Test
    void aCollectionOverTenThousandEntriesStopsAndSaysSo() {
        Run run = run(new ExecutionSpec(UUID.randomUUID().toString(), code.manyEmptyFiles(10_050), null, 1 << 20,
                Duration.ofSeconds(60), List.of(), List.of("**"), FileLimits.DEFAULT), TENANT);
        assertEquals(Status.OK, run.status(), run::describe);
        List<CollectedFile> files = run.outcome().files();
        assertTrue(files.get(0).error().startsWith("TooManyFiles: the working directory holds more than"),
                files.get(0)::toString);
        assertTrue(files.size() <= FileLimits.DEFAULT.maxFiles() + 2, "the list is bounded: " + files.size());
        assertPoolHealthy();
    }

    /** A file that grows while it is collected is read no further than the limit; what grows it is stopped after. */
    @Test
    void aFileGrowingWhileItIsCollectedIsReadNoFurtherThanTheLimit() {
        Run run = run(new ExecutionSpec(UUID.randomUUID().toString(), code.growInTheBackground("grow.bin"), null, 1 << 20,
                runtime.timeout(), List.of(), List.of("*.bin"), new FileLimits(4096, 1 << 20, 10)), TENANT);
        assertEquals(Status.OK, run.status(), run::describe);
        assertEquals(1, run.outcome().files().size(), run.outcome().files()::toString);
        assertTrue(run.outcome().files().get(0).error().startsWith("FileTooLarge"), run.outcome().files()::toString);
        assertPoolHealthy();
    }

    /**
     * A link a request left in the working directory (a session's stays) does not take a later
     * request's input file elsewhere: the file is refused, and the code does not run.
     */
    @Test
    void anInputFileIsNotWrittenThroughALinkLeftInTheWorkingDirectory() throws Exception {
        String planted = "planted-" + UUID.randomUUID() + ".txt";
        try (Held process = hold()) {
            assertEquals(Status.OK, process.run(code.linkDirectory("data", "/tmp")).status());
            Run refused = process.run(new ExecutionSpec(UUID.randomUUID().toString(), code.hello(), null, 1 << 20,
                    runtime.timeout(), List.of(InputFile.of("data/" + planted, new byte[] {1})), List.of(),
                    FileLimits.DEFAULT));
            assertEquals(Status.ERROR, refused.status(), refused::describe);
            assertEquals("InputFileError", refused.outcome().error().type(), refused::describe);
            assertEquals("", refused.stdout(), "the code did not run");
            Run listed = process.run(code.listDirectory("/tmp"));
            assertTrue(!listed.stdout().contains(planted), "nothing was written through the link: " + listed.stdout());
        }
        assertPoolHealthy();
    }

    @Test
    void displayedPicturesArriveInTheirPlaceAmongTheOutput() {
        Run run = run(code.displayBetweenPrints(64));
        assertEquals(Status.OK, run.status(), run::describe);
        List<Chunk> merged = run.merged();
        assertEquals(3, merged.size(), merged::toString);
        assertEquals("before\n", merged.get(0).text());
        Map<String, String> bundle = merged.get(1).display();
        assertEquals("<b>picture</b>", bundle.get("text/html"), bundle::toString);
        byte[] png = Base64.getDecoder().decode(bundle.get("image/png"));
        assertEquals(64, png.length);
        assertEquals("\u0089PNG", new String(png, 0, 4, StandardCharsets.ISO_8859_1));
        assertTrue(bundle.containsKey("text/plain"), bundle::toString);
        assertEquals("after\n", merged.get(2).text());
    }

    @Test
    void aDisplayLargerThanTheOutputBudgetIsDroppedAndTheResultSaysTruncated() {
        Run run = run(spec(code.displayBetweenPrints(100_000), null, 10_000), TENANT);
        assertEquals(Status.OK, run.status(), run::describe);
        assertTrue(run.outcome().truncated(), run::describe);
        assertTrue(run.chunks().stream().noneMatch(chunk -> chunk.display() != null), run::describe);
        assertEquals("before\nafter\n", run.stdout());
        assertPoolHealthy();
    }

    @Test
    void aMatplotlibFigureShownArrivesAsAPicture() {
        Assumptions.assumeTrue(code.plotAndShow() != null, runtime + " has no plotting library");
        Run run = run(spec(code.plotAndShow(), null, 1 << 20, Duration.ofSeconds(60)), TENANT);
        assertEquals(Status.OK, run.status(), run::describe);
        List<Chunk> merged = run.merged();
        assertEquals("drawn\n", merged.get(0).text(), merged::toString);
        byte[] png = Base64.getDecoder().decode(merged.get(1).display().get("image/png"));
        assertEquals("\u0089PNG", new String(png, 0, 4, StandardCharsets.ISO_8859_1));
        assertEquals("shown\n", merged.get(2).text(), merged::toString);
        assertPoolHealthy();
    }

    @Test
    void theRuntimesDisplayWritesToTheRequestsOutput() {
        Run run = run(code.displayRange());
        assertEquals(Status.OK, run.status(), run::describe);
        // Julia 1.5's text display ends without a newline, later versions and Python's with one.
        assertEquals(code.displayedRange(), run.stdout().stripTrailing());
        assertPoolHealthy();
    }

    @Test
    void aTopLevelLoopUpdatesTheCellsVariables() {
        Run run = run(code.loopAccumulating());
        assertEquals(Status.OK, run.status(), run::describe);
        assertEquals("6", run.value());
    }

    @Test
    void bigWritesArriveWholeAfterAChildProcessAndThroughTheCLibrary() {
        int bytes = 200_000;
        Run printed = run(code.childThenBigPrint(bytes));
        assertEquals(Status.OK, printed.status(), printed::describe);
        assertEquals("x".repeat(bytes), printed.stdout());

        Run written = run(code.bigCLevelWrite(bytes));
        assertEquals(Status.OK, written.status(), written::describe);
        assertEquals("y".repeat(bytes) + "\n", written.stdout());
        assertTrue(written.chunks().stream().allMatch(c -> c.text().getBytes(StandardCharsets.UTF_8).length <= 32 * 1024),
                "no output frame is larger than 32 KiB");
    }

    @Test
    void warningsReachStderr() {
        Run run = run(code.warning());
        assertEquals(Status.OK, run.status(), run::describe);
        assertTrue(run.stderr().contains("careful"), run::describe);
        assertEquals("", run.stdout());
    }

    @Test
    void userTypesAndExceptionsAreNamedAsTheUserWroteThem() {
        Run value = run(code.userTypeValue());
        assertEquals(Status.OK, value.status(), value::describe);
        assertEquals(code.userTypeRendered(), value.value());

        Run raised = run(code.userException());
        assertEquals(Status.ERROR, raised.status(), raised::describe);
        assertEquals("X", raised.outcome().error().type());
    }

    @Test
    void anErrorRaisedWhileHandlingAnotherReportsBoth() {
        Run run = run(code.errorWhileHandlingAnother());
        assertEquals(Status.ERROR, run.status(), run::describe);
        assertTrue(run.outcome().error().message().contains("outer"), run::describe);
        assertTrue(run.outcome().error().stacktrace().contains("inner"), () -> "the cause is in the trace: " + run.describe());
    }

    @Test
    void aDriverFailureOutsideAnyRequestIsNamedInTheCrash() throws Exception {
        try (Held held = hold()) {
            Run broken = held.run(code.breakCommandReading());
            assertEquals(Status.OK, broken.status(), broken::describe);
            Run next = held.run(code.hello());
            assertEquals(Status.CRASHED, next.status(), next::describe);
            assertTrue(next.outcome().error().message().contains("fatal error outside any request"), next::describe);
        }
        assertPoolHealthy();
    }

    /**
     * Output streams while the request runs: every tick arrives in a chunk of its own, most of them
     * long before the request ends. (How soon is a benchmark's question, not a test's.)
     */
    @Test
    void outputOfALongRequestStreamsLive() {
        int ticks = 40;
        List<Long> arrivals = Collections.synchronizedList(new ArrayList<>());
        Collector collector = new Collector() {
            @Override
            public synchronized void accept(Output.Stream stream, String text) {
                arrivals.add(System.nanoTime());
                super.accept(stream, text);
            }
        };
        Run run = run(spec(code.tickEvery100Ms(ticks), null, 1 << 20), TENANT, collector);
        long finished = System.nanoTime();
        assertEquals(Status.OK, run.status(), run::describe);
        StringBuilder expected = new StringBuilder();
        for (int n = 1; n <= ticks; n++) {
            expected.append("tick ").append(n).append('\n');
        }
        assertEquals(expected.toString(), run.stdout());
        long early = arrivals.stream().filter(t -> finished - t > TimeUnit.SECONDS.toNanos(1)).count();
        assertTrue(arrivals.size() >= ticks / 2 && early >= ticks / 4,
                arrivals.size() + " chunks, " + early + " of them more than 1 s before the end");
    }

    // --- helpers ---------------------------------------------------------------------------------

    /** The sandbox's processes once the pool starts and retires none and runs no request. */
    private long sandboxProcessesOnceThePoolRests() throws IOException {
        // A Julia pool refilling in an image build beside CI's tests took over 30 s to rest.
        await().atMost(Duration.ofSeconds(120)).until(() -> {
            PoolStats stats = pool.stats();
            return stats.starting() == 0 && stats.retiring() == 0 && stats.busy() == 0;
        });
        return sandboxProcesses();
    }

    /**
     * Processes running as one of the pool's uids: what a fork bomb leaves behind, uncounted among
     * whatever else the machine runs meanwhile.
     */

    private long sandboxProcesses() throws IOException {
        // The pool's uids, wherever the sandbox found them free (another fork's worker may hold the base's).
        Set<Integer> poolUids = IntStream.range(0, 2).mapToObj(slot -> sandbox.uid(runtime.definition().name(), slot))
                .filter(OptionalInt::isPresent).map(OptionalInt::getAsInt).collect(Collectors.toSet());
        try (Stream<Path> processes = Files.list(Path.of("/proc"))) {
            return processes.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit))
                    .filter(p -> {
                        try {
                            return Files.readAllLines(p.resolve("status")).stream()
                                    .filter(line -> line.startsWith("Uid:")).map(line -> line.split("\\s+")[1])
                                    .mapToInt(Integer::parseInt).anyMatch(poolUids::contains);
                        } catch (IOException e) {
                            return false;
                        }
                    }).count();
        }
    }

    /** Four requests of {@code helloWorld}: each prints its own line and nothing of an earlier request. */
    private void assertTheNextRequestsPrintOnlyTheirOwn(String helloWorld) {
        for (int i = 0; i < 4; i++) {
            Run next = run(helloWorld);
            assertEquals("hello, world\n", next.stdout(),
                    () -> "nothing of the earlier request prints or answers here: " + next.describe());
        }
    }

    /**
     * The evidence that a process is at rest is its control group's: a worker has one per process
     * only as root with control groups it may write (not in a build container, for one).
     */
    private void assumeEvidenceOfRest() {
        Assumptions.assumeTrue(sandbox.limitsMemory(), () -> "no control group per process here (isolation "
                + sandbox.isolation() + "): nothing outside the process to judge its rest by");
    }

    /** Processes the pool retired as not at rest, after a request or while idle. */
    private static long notAtRest(PoolStats stats) {
        return Stream.of(Retirement.values()).filter(Retirement::notAtRest).mapToLong(stats::retiredFor).sum();
    }

    /** Processes on this machine whose command line is "sleep 1000", user code's or not. */
    private static long sleepersOnTheMachine() throws IOException {
        try (Stream<Path> processes = Files.list(Path.of("/proc"))) {
            return processes.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit))
                    .filter(p -> {
                        try {
                            return new String(Files.readAllBytes(p.resolve("cmdline")), StandardCharsets.UTF_8)
                                    .replace('\0', ' ').strip().equals("sleep 1000");
                        } catch (IOException e) {
                            return false;
                        }
                    }).count();
        }
    }

    /** Whether each process runs as a uid of its own, which file permissions and RLIMIT_NPROC need. */
    private boolean ownUid() {
        return sandbox.isolation().ownUid();
    }

    private void assertPoolHealthy() {
        Run run = run(code.hello());
        assertEquals(Status.OK, run.status(), () -> "the pool still serves requests: " + run.describe());
        assertEquals("hello, world\n", run.stdout());
    }

    private Run run(String source) {
        return run(spec(source, null, 1 << 20), TENANT);
    }

    private Run run(ExecutionSpec spec, String tenant) {
        return run(spec, tenant, new Collector());
    }

    private Run run(ExecutionSpec spec, String tenant, Collector collector) {
        try {
            TimedOutcome timed = executor.execute(spec, tenant, collector, new CancelSignal());
            return new Run(timed.outcome(), collector.chunks());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private ExecutionSpec spec(String source, String session, long maxOutputBytes) {
        return spec(source, session, maxOutputBytes, runtime.timeout());
    }

    private static ExecutionSpec spec(String source, String session, long maxOutputBytes, Duration timeout) {
        return new ExecutionSpec(UUID.randomUUID().toString(), source, session, maxOutputBytes, timeout);
    }

    /** One process kept for several requests, to observe what does and does not carry over. */
    private Held hold() throws Exception {
        return new Held(pool.acquire(TENANT, Duration.ofSeconds(120)));
    }

    private final class Held implements AutoCloseable {
        private final Lease<RuntimeProcess> lease;

        Held(Lease<RuntimeProcess> lease) {
            this.lease = lease;
        }

        Run run(String source) {
            return run(source, null);
        }

        Run run(String source, String session) {
            return run(spec(source, session, 1 << 20));
        }

        Run run(ExecutionSpec spec) {
            String session = spec.session();
            Collector collector = new Collector();
            ExecutionOutcome outcome;
            try {
                outcome = lease.process().execute(spec, collector);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            }
            if (session == null) {
                lease.process().killStragglers();
            }
            return new Run(outcome, collector.chunks());
        }

        @Override
        public void close() {
            pool.release(lease, lease.process().isAlive());
        }
    }

    /**
     * One session as a worker runs it: pinned processes from the pool, and a history that records
     * every request that ran to completion, as the worker records it in Redis.
     */
    private final class SessionUnderTest implements AutoCloseable {
        private final String id = "s-" + UUID.randomUUID();
        private final List<String> history;
        private final SessionProcesses processes;
        private final Map<String, byte[]> files = new LinkedHashMap<>();
        private long filesVersion;
        long replayed;

        SessionUnderTest(List<String> history) {
            this.history = history;
            this.processes = new SessionProcesses(pool, 1, Duration.ofSeconds(120), runtime.timeout(),
                    new SessionProcesses.History() {
                        @Override
                        public List<String> snippets(String session, long from, long to) {
                            return List.copyOf(history.subList((int) from, (int) to));
                        }

                        @Override
                        public long length(String session) {
                            return history.size();
                        }

                        @Override
                        public Map<String, byte[]> files(String session) {
                            return Map.copyOf(files);
                        }
                    });
        }

        /** As the dispatcher stores one: the file, and the version that tells processes to write it. */
        void putFile(String path, String content) {
            files.put(path, content.getBytes(StandardCharsets.UTF_8));
            filesVersion++;
        }

        void define(String... snippets) throws InterruptedException {
            for (String snippet : snippets) {
                Run run = run(snippet);
                assertEquals(Status.OK, run.status(), run::describe);
            }
        }

        Run run(String source) throws InterruptedException {
            return run(source, runtime.timeout());
        }

        Run runUnchecked(String source) {
            try {
                return run(source);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }

        Run run(String source, Duration timeout) throws InterruptedException {
            Collector collector = new Collector();
            SessionProcesses.Run run = processes.execute(id, TENANT, history.size(), filesVersion,
                    spec(source, id, 1 << 20, timeout), collector, new CancelSignal());
            replayed += run.replayed();
            ExecutionOutcome outcome = run.timed().outcome();
            if (outcome.status() == Status.OK || outcome.status() == Status.ERROR) {
                history.add(source);
            }
            processes.finish(run, history.size());
            return new Run(outcome, collector.chunks());
        }

        @Override
        public void close() {
            processes.close();
        }
    }

    /** Output of a stream, or a display bundle ({@code stream} null). */
    record Chunk(Output.Stream stream, String text, Map<String, String> display) {
        Chunk(Output.Stream stream, String text) {
            this(stream, text, null);
        }
    }

    /** Chunks as received, merged where consecutive chunks share a stream (chunking is not behaviour). */
    record Run(ExecutionOutcome outcome, List<Chunk> chunks) {
        Status status() {
            return outcome.status();
        }

        String value() {
            return outcome.value();
        }

        String stdout() {
            return text(Output.Stream.STDOUT);
        }

        String stderr() {
            return text(Output.Stream.STDERR);
        }

        List<Chunk> merged() {
            List<Chunk> merged = new ArrayList<>();
            for (Chunk chunk : chunks) {
                Chunk last = merged.isEmpty() ? null : merged.get(merged.size() - 1);
                if (last != null && chunk.stream() != null && last.stream() == chunk.stream()) {
                    merged.set(merged.size() - 1, new Chunk(chunk.stream(), last.text() + chunk.text()));
                } else {
                    merged.add(chunk);
                }
            }
            return merged;
        }

        String describe() {
            return outcome + " stdout=" + stdout() + " stderr=" + stderr();
        }

        private String text(Output.Stream stream) {
            StringBuilder text = new StringBuilder();
            chunks.stream().filter(c -> c.stream() == stream).forEach(c -> text.append(c.text()));
            return text.toString();
        }
    }

    private static class Collector implements OutputSink {
        private final List<Chunk> chunks = new ArrayList<>();

        @Override
        public synchronized void accept(Output.Stream stream, String text) {
            chunks.add(new Chunk(stream, text));
        }

        @Override
        public synchronized void display(Map<String, String> data) {
            chunks.add(new Chunk(null, null, Map.copyOf(data)));
        }

        synchronized List<Chunk> chunks() {
            return List.copyOf(chunks);
        }
    }

    /**
     * {@code EXECFARM_JULIA_BINARY} when set (CI sets it to what deploy/julia/install-julia printed);
     * else {@code julia} on PATH; else the installer's default prefix, where it has run.
     */
    private static String juliaBinary() {
        String configured = System.getenv("EXECFARM_JULIA_BINARY");
        if (configured != null && !configured.isBlank()) {
            return configured;
        }
        boolean onPath = Stream.of(System.getenv().getOrDefault("PATH", "").split(":"))
                .anyMatch(dir -> !dir.isEmpty() && Files.isExecutable(Path.of(dir, "julia")));
        return !onPath && Files.isExecutable(INSTALLED_JULIA) ? INSTALLED_JULIA.toString() : "julia";
    }
}
