package io.execfarm.worker.runtime;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.execfarm.contracts.Result;
import io.execfarm.worker.sandbox.GroupCounters;
import io.execfarm.worker.sandbox.LaunchSpec;
import io.execfarm.worker.sandbox.ProcessCgroup;
import io.execfarm.worker.sandbox.Sandbox;
import io.execfarm.worker.sandbox.Scratch;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.jboss.logging.Logger;

/**
 * One live runtime process running a driver. Not thread-safe: one request at a time, from the
 * thread that called {@link #execute}; only {@link #cancel} and {@link #kill} may come from others.
 *
 * <p>A dedicated reader thread turns the driver's frame channel into a queue of
 * {@link DriverFrame}s; the executing thread waits on that queue, so a timeout, a cancel, an exit
 * and a garbage frame all arrive in one place, in order.
 *
 * <p>User code owns the process and can write frames itself, so the reader holds the channel to
 * the protocol: frames only for the request running now, one {@code done} for it and nothing after
 * that. A frame while no request runs (a flood between requests, a second {@code done}) kills the
 * process at once, so it is retired before it can serve another request. What waits in the queue
 * is bounded in bytes: past that the reader stops reading and the process's writes block.
 */
public final class RuntimeProcess {

    private static final Logger LOG = Logger.getLogger(RuntimeProcess.class);
    /** How a driver marks what it writes to its original stderr about its own failures. */
    private static final String DIAGNOSTIC_PREFIX = "execfarm driver: ";
    /** How much of the end of a process's stderr log is read for diagnostics. */
    private static final int LOG_TAIL_BYTES = 16 * 1024;

    /**
     * A frame larger than this is a broken or hostile driver: a value is cut at 1 Mi characters
     * (up to 12 bytes each in Python's ASCII-only JSON), an output frame carries at most 32 KiB.
     */
    static final int MAX_FRAME_BYTES = 16 * 1024 * 1024;
    /**
     * Above any output frame a driver sends: the protocol's 32 KiB of UTF-8 is at most as many
     * UTF-16 units, plus the few a decoder carries over from the previous read.
     */
    private static final int MAX_CHUNK_CHARS = 64 * 1024;
    /** How many bytes of frames may wait for the executing thread; the reader stops reading past it. */
    private static final int MAX_QUEUED_BYTES = MAX_FRAME_BYTES;
    /** A line buffer that grew past this is dropped after its frame, not kept for the process's life. */
    private static final int LARGE_LINE_BYTES = 1024 * 1024;
    /** How long killed stragglers get to disappear; SIGKILL normally takes microseconds. */
    private static final Duration STRAGGLER_GRACE = Duration.ofSeconds(2);

    /** Refused forks already reported, so that each request names only its own. */
    private long forksRefusedBefore;
    private final String runtime;
    private final Process process;
    private final LaunchSpec launch;
    private final ObjectMapper json;
    private final OutputStream commands;
    private final BlockingQueue<Queued> frames = new LinkedBlockingQueue<>();
    /** Bytes the queue may still take: the reader takes a frame's size before queueing it, a poll gives it back. */
    private final Semaphore queueRoom = new Semaphore(MAX_QUEUED_BYTES);
    /** The request whose frames the channel may carry: set before its command is sent, cleared by the reader at its done. */
    private volatile String running;
    /** Its control group's counters, kept open; empty where it has no group. Set once it is ready. */
    private volatile Optional<GroupCounters> counters = Optional.empty();
    /** Whether it is at rest, from its control group and where its driver waits. Set once it is ready. */
    private volatile Optional<RestCheck> rest = Optional.empty();
    /** Its scratch directories as they were after they were last emptied; null until then. */
    private Scratch.State scratchEmptied;
    /** The files of its collected directories as last copied out, by modification time. */
    private final Map<Path, FileTime> collectedSeen = new HashMap<>();
    /** Set when the reader killed it for writing while no request ran. */
    private volatile boolean wroteWhileIdle;
    /** What its driver said the last request left waiting to run later; null when it said nothing. */
    private volatile String leftWaiting;
    /** The runtime itself. */
    private volatile ProcessHandle driver;
    /** What kills the whole tree: the namespace init, or the runtime when there is no namespace. */
    private volatile ProcessHandle root;

    private RuntimeProcess(String runtime, Process process, LaunchSpec launch, ObjectMapper json) {
        this.runtime = runtime;
        this.process = process;
        this.launch = launch;
        this.json = json;
        this.commands = process.getOutputStream();
    }

    /** Starts the process and waits for its driver's ready frame. */
    static RuntimeProcess start(String runtime, LaunchSpec launch, Sandbox sandbox, ObjectMapper json,
            Duration timeout) throws RuntimeStartException {
        Process process;
        try {
            process = sandbox.spawn(launch,
                    builder -> builder.redirectError(ProcessBuilder.Redirect.to(launch.stderrLog().toFile())));
        } catch (IOException e) {
            throw new RuntimeStartException(runtime + ": cannot start " + launch.command().get(0) + ": " + e.getMessage(), e);
        }
        RuntimeProcess started = new RuntimeProcess(runtime, process, launch, json);
        Thread reader = new Thread(started::readFrames, "execfarm-" + runtime + "-frames-" + process.pid());
        reader.setDaemon(true);
        reader.start();
        DriverFrame first;
        try {
            first = started.poll(timeout.toNanos());
        } catch (InterruptedException e) {
            started.kill();
            Thread.currentThread().interrupt();
            throw new RuntimeStartException(runtime + ": interrupted while waiting for the driver to become ready", e);
        }
        if (!(first instanceof DriverFrame.Ready)) {
            started.kill();
            throw new RuntimeStartException(runtime + ": the driver did not become ready ("
                    + (first == null ? "no frame within " + timeout.toMillis() + " ms" : describe(first)) + ")"
                    + started.stderrTail());
        }
        started.root = started.findRoot();
        started.driver = started.launch.namespaced()
                ? started.root.children().findFirst().orElse(started.root)
                : started.root;
        if (launch.cgroup().isPresent()) {
            try {
                started.counters = Optional.of(launch.cgroup().get().openCounters());
            } catch (IOException e) {
                started.kill();
                throw new RuntimeStartException(runtime + ": cannot read its control group: " + e.getMessage(), e);
            }
        }
        started.rest = Optional.of(new RestCheck(started.counters,
                launch.cgroup().map(ProcessCgroup::lifetimeCpuSeconds).orElse(0L), started.driver.pid()));
        return started;
    }

    public String runtime() {
        return runtime;
    }

    public LaunchSpec launch() {
        return launch;
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /**
     * Runs one request to its end. Output reaches {@code sink} as the driver forwards it.
     *
     * @throws InterruptedException when the calling thread is interrupted (the worker is stopping):
     *         the process, whose request is left half done, is killed first
     */
    public ExecutionOutcome execute(ExecutionSpec spec, OutputSink sink) throws InterruptedException {
        if (!process.isAlive()) {
            return ExecutionOutcome.failure(Result.Status.CRASHED, "ProcessExited",
                    "the " + runtime + " process had already exited" + diagnosis(), false);
        }
        OutputBudget budget = new OutputBudget(spec.maxOutputBytes());
        FileCollection collected = new FileCollection(spec.fileLimits());
        rest.ifPresent(RestCheck::markBusy);
        leftWaiting = null;
        running = spec.id();
        try {
            send(spec);
        } catch (IOException e) {
            kill();
            return ExecutionOutcome.failure(Result.Status.CRASHED, "ProcessExited",
                    "the " + runtime + " process stopped reading its input: " + e.getMessage(), false);
        }
        long deadline = System.nanoTime() + spec.timeout().toNanos();
        while (true) {
            DriverFrame frame;
            try {
                frame = poll(deadline - System.nanoTime());
            } catch (InterruptedException e) {
                kill();
                throw e;
            }
            if (frame == null) {
                kill();
                return withLimits(ExecutionOutcome.failure(Result.Status.TIMEOUT, "Timeout",
                        "execution exceeded its timeout of " + spec.timeout().toMillis() + " ms", budget.exceeded()));
            }
            if (frame instanceof DriverFrame.Chunk chunk && chunk.id().equals(spec.id())) {
                String admitted = budget.admit(chunk.text());
                if (!admitted.isEmpty()) {
                    sink.accept(chunk.stream(), admitted);
                }
            } else if (frame instanceof DriverFrame.Display display && display.id().equals(spec.id())) {
                Map<String, String> bundle = DisplayBundles.admissible(display.data());
                if (budget.admitWhole(DisplayBundles.bytes(bundle))) {
                    sink.display(bundle);
                }
            } else if (frame instanceof DriverFrame.CollectedFile file && file.id().equals(spec.id())) {
                collected.add(file.path(), file.base64(), file.error());
            } else if (frame instanceof DriverFrame.Done done && done.id().equals(spec.id())) {
                leftWaiting = done.leftWaiting();
                ExecutionOutcome outcome = new ExecutionOutcome(done.status(), done.value(), done.error(),
                        done.truncated() || budget.exceeded(), done.evalMicros());
                return (done.status() == Result.Status.OK ? outcome : withLimits(outcome)).withFiles(collected.files());
            } else if (frame instanceof DriverFrame.CancelRequested cancel) {
                if (cancel.id().equals(spec.id())) {
                    kill();
                    return ExecutionOutcome.failure(Result.Status.CANCELLED, "Cancelled",
                            "execution was cancelled", budget.exceeded());
                }
            } else if (frame instanceof DriverFrame.Closed) {
                return withLimits(ExecutionOutcome.failure(Result.Status.CRASHED, "ProcessExited",
                        "the " + runtime + " process " + exitDescription() + " before finishing the request"
                                + diagnosis(), budget.exceeded()));
            } else {
                kill();
                return ExecutionOutcome.failure(Result.Status.CRASHED, "ProtocolViolation",
                        "the " + runtime + " process broke the driver protocol: " + describe(frame), budget.exceeded());
            }
        }
    }

    /**
     * Stops request {@code requestId} if it is running or about to run on this process. A cancel
     * for any other request is left in the queue and ignored there, so a cancel racing with the
     * start of its request is never lost.
     */
    public void cancel(String requestId) {
        frames.add(new Queued(new DriverFrame.CancelRequested(requestId), 0));
    }

    /**
     * A failed request's outcome with what the process's control group saw during it: a process
     * the kernel killed at its memory limit ends {@code MemoryLimitExceeded}, and forks refused at
     * its task limit are named in the message.
     */
    private ExecutionOutcome withLimits(ExecutionOutcome outcome) {
        if (launch.cgroup().isEmpty()) {
            return outcome;
        }
        ProcessCgroup group = launch.cgroup().get();
        if (outcome.status() == Result.Status.CRASHED && group.memoryKills() > 0) {
            return ExecutionOutcome.failure(Result.Status.CRASHED, ExecutionOutcome.MEMORY_LIMIT_EXCEEDED,
                    "the " + runtime + " process exceeded its memory limit of " + (group.memoryBytes() >> 20)
                            + " MiB and was killed", outcome.truncated());
        }
        long refused = group.refusedForks();
        if (refused <= forksRefusedBefore || outcome.error() == null) {
            return outcome;
        }
        long during = refused - forksRefusedBefore;
        forksRefusedBefore = refused;
        Result.ErrorInfo error = outcome.error();
        return new ExecutionOutcome(outcome.status(), outcome.value(), new Result.ErrorInfo(error.type(),
                error.message() + " (" + during + " attempts to start a process or thread were refused: the "
                        + runtime + " process reached its limit of " + group.maxTasks() + " tasks)",
                error.stacktrace()), outcome.truncated(), outcome.evalMicros(), true);
    }

    /**
     * Kills whatever a finished request left running, orphans included, leaving the driver; returns
     * once they are gone, so the next request cannot see them.
     */
    public void killStragglers() {
        ProcessHandle r = root;
        ProcessHandle d = driver;
        if (r == null) {
            return;
        }
        List<ProcessHandle> stragglers = counters
                .map(group -> group.processes().stream()
                        .filter(pid -> pid != process.pid() && pid != r.pid() && pid != d.pid())
                        .map(ProcessHandle::of).flatMap(Optional::stream).toList())
                // Without a group of its own, the whole process table: a read of every /proc/<pid>/stat.
                .orElseGet(() -> launch.ownSession() ? sessionMembers(d.pid())
                        : r.descendants().filter(h -> !h.equals(d)).toList());
        stragglers.forEach(ProcessHandle::destroyForcibly);
        long deadline = System.nanoTime() + STRAGGLER_GRACE.toNanos();
        for (ProcessHandle straggler : stragglers) {
            while (isRunning(straggler.pid()) && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
        }
    }

    /**
     * Brings the process back to rest after a request outside a session: kills what the request
     * left running and empties its scratch directories; then says, from its control group, whether
     * it is at rest (empty) or why not. A process that is not must serve no other request.
     */
    public Optional<Unrest> settle() {
        Optional<Unrest> unrest = clear();
        ProcessHandle d = driver;
        unrest = unrest.isPresent() || d == null ? unrest : rest.flatMap(RestCheck::afterRequest);
        String left = leftWaiting;
        if (unrest.isEmpty() && left != null) {
            LOG.debugf("%s: its driver counts something the request left waiting: %s", this, left);
            unrest = Optional.of(Unrest.LEFT_WAITING);
        }
        if (unrest.isEmpty()) {
            // Only now: nothing a request left runs that could swap a file under the copy.
            copyCollected();
        }
        return unrest;
    }

    /** Brings a process that just became warm to rest, and takes what it is then as the measure of rest. */
    void settleFirst() {
        clear();
        rest.ifPresent(RestCheck::baseline);
        copyCollected();
    }

    /** Kills what a request left running and empties the scratch directories; says why not when that failed. */
    private Optional<Unrest> clear() {
        Optional<Unrest> unrest = exited();
        ProcessHandle d = driver;
        if (unrest.isPresent() || d == null) {
            return unrest;
        }
        killStragglers();
        try {
            // Nothing was created or removed in any of its directories since they were emptied: no walk.
            if (scratchEmptied != null && scratchEmptied.unchanged()) {
                return Optional.empty();
            }
            if (!Scratch.empty(launch, d.pid())) {
                return Optional.of(Unrest.SCRATCH);
            }
            scratchEmptied = Scratch.state(launch, d.pid());
            return Optional.empty();
        } catch (IOException e) {
            LOG.warnf("%s: could not empty its scratch directories: %s", this, e.getMessage());
            return Optional.of(Unrest.SCRATCH);
        }
    }

    /** Copies out what changed in its collected directories (compile traces), so that it can be read while it lives. */
    private void copyCollected() {
        launch.collected().forEach((place, own) -> {
            try {
                Scratch.copyChanged(own, place, collectedSeen);
            } catch (IOException e) {
                LOG.warnf("%s: could not copy %s into %s: %s", this, own, place, e.getMessage());
            }
        });
    }

    /**
     * Why this idle process may not serve a request, or empty when it may: it exited or was killed,
     * or, judged from its control group, it started something or used CPU since it came to rest. A
     * few small reads.
     */
    public Optional<Unrest> idleUnrest() {
        Optional<Unrest> unrest = exited();
        return unrest.isPresent() ? unrest : rest.flatMap(RestCheck::whileIdle);
    }

    private Optional<Unrest> exited() {
        return process.isAlive() ? Optional.empty()
                : Optional.of(wroteWhileIdle ? Unrest.WROTE_WHILE_IDLE : Unrest.EXITED);
    }

    /** Alive and not a zombie: a killed child stays a zombie until its parent reaps it, harmlessly. */
    private static boolean isRunning(long pid) {
        return statFields(pid).map(fields -> !fields[0].equals("Z")).orElse(false);
    }

    /**
     * The fields of /proc/{@code pid}/stat after "pid (comm) ", the last four unsplit: state, ppid,
     * pgrp, session, the rest. Empty when the process is gone.
     */
    private static Optional<String[]> statFields(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            int afterName = stat.lastIndexOf(')');
            return afterName > 0 && afterName + 2 < stat.length()
                    ? Optional.of(stat.substring(afterName + 2).split(" ", 5)) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /**
     * The processes of the session {@code leader} leads, but for the leader: what it started,
     * orphans included (they are reparented away from it, but keep its session).
     */
    private static List<ProcessHandle> sessionMembers(long leader) {
        return ProcessHandle.allProcesses()
                .filter(h -> h.pid() != leader && sessionOf(h.pid()) == leader)
                .toList();
    }

    /** The session id in /proc/{@code pid}/stat, or -1 when the process is gone. */
    private static long sessionOf(long pid) {
        try {
            return statFields(pid).map(fields -> Long.parseLong(fields[3])).orElse(-1L);
        } catch (RuntimeException e) {
            return -1;
        }
    }

    /** Kills the process and everything it started. */
    public void kill() {
        // A reader waiting for queue room would wait for ever: nobody polls a killed process.
        queueRoom.release(MAX_QUEUED_BYTES);
        rest.ifPresent(RestCheck::close);
        ProcessHandle r = root;
        if (launch.namespaced()) {
            // When a namespace's init dies the kernel kills everything in it; the launcher's
            // --kill-child does the same if only the launcher is killed.
            if (r != null) {
                r.destroyForcibly();
            }
        } else {
            for (int round = 0; round < 3; round++) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                if (launch.ownSession()) {
                    sessionMembers(process.pid()).forEach(ProcessHandle::destroyForcibly);
                }
            }
            if (launch.uid() >= 0) {
                killEveryProcessOf(launch.uid());
            }
        }
        process.destroyForcibly();
        try {
            process.waitFor(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Kills whatever still runs as {@code uid}, until nothing does: a fork bomb's survivors outrun
     * kills one pid at a time (by tree or session), and code that called setsid left the session.
     * As that uid, {@code kill(-1, SIGKILL)} reaches all of them in one sweep of the kernel's task
     * list. The uid is this process's alone while it lives (its slot's, UidRange), so nothing else
     * is hit.
     */
    private static void killEveryProcessOf(int uid) {
        long deadline = System.nanoTime() + STRAGGLER_GRACE.toNanos();
        List<ProcessHandle> left = processesOf(uid);
        while (!left.isEmpty() && System.nanoTime() < deadline) {
            try {
                new ProcessBuilder("setpriv", "--reuid=" + uid, "--regid=" + uid, "--clear-groups", "--",
                        "sh", "-c", "kill -KILL -1").redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor(1, TimeUnit.SECONDS);
            } catch (IOException e) {
                left.forEach(ProcessHandle::destroyForcibly);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            left = processesOf(uid).stream().filter(h -> isRunning(h.pid())).toList();
        }
        if (!left.isEmpty()) {
            LOG.warnf("%d processes of uid %d outlived %s of killing", left.size(), uid, STRAGGLER_GRACE);
        }
    }

    /** Processes whose real uid is {@code uid}, from /proc. */
    private static List<ProcessHandle> processesOf(int uid) {
        return ProcessHandle.allProcesses().filter(h -> realUidOf(h.pid()) == uid).toList();
    }

    /** The real uid in /proc/{@code pid}/status, or -1 when the process is gone. */
    private static int realUidOf(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("Uid:")) {
                    return Integer.parseInt(line.split("\\s+")[1]);
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    /** Resident memory of the driver process, or 0 when it cannot be read. */
    public long residentBytes() {
        ProcessHandle d = driver;
        if (d == null) {
            return 0;
        }
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(d.pid()), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
        return 0;
    }

    private ProcessHandle findRoot() {
        if (!launch.namespaced()) {
            return process.toHandle();
        }
        return process.toHandle().children().findFirst().orElse(process.toHandle());
    }

    private void send(ExecutionSpec spec) throws IOException {
        ObjectNode command = json.createObjectNode()
                .put("op", "exec")
                .put("id", spec.id())
                .put("code", spec.code())
                .put("maxOutputBytes", spec.maxOutputBytes());
        command.put("session", spec.session());
        byte[] files = null;
        if (!spec.files().isEmpty()) {
            ArrayNode list = json.createArrayNode();
            spec.files().forEach(file -> list.addObject().put("path", file.path()).put("base64", file.base64()));
            files = json.writeValueAsBytes(list);
            command.put("filesBytes", files.length);
        }
        if (!spec.collect().isEmpty()) {
            ArrayNode globs = command.putArray("collect");
            spec.collect().forEach(globs::add);
            command.putObject("collectLimits").put("maxFileBytes", spec.fileLimits().maxFileBytes())
                    .put("maxRequestBytes", spec.fileLimits().maxRequestBytes())
                    .put("maxFiles", spec.fileLimits().maxFiles());
        }
        write(command);
        if (files != null) {
            commands.write(files);
            commands.flush();
        }
    }

    private void write(ObjectNode command) throws IOException {
        byte[] line = json.writeValueAsBytes(command);
        commands.write(line);
        commands.write('\n');
        commands.flush();
    }

    /** A frame in the queue, with the bytes of queue room it holds. */
    private record Queued(DriverFrame frame, int bytes) {
    }

    private DriverFrame poll(long nanos) throws InterruptedException {
        Queued queued = nanos <= 0 ? frames.poll() : frames.poll(nanos, TimeUnit.NANOSECONDS);
        if (queued == null) {
            return null;
        }
        queueRoom.release(queued.bytes());
        return queued.frame();
    }

    private void readFrames() {
        try (InputStream in = process.getInputStream()) {
            ByteArrayOutputStream line = new ByteArrayOutputStream(256);
            byte[] buffer = new byte[64 * 1024];
            boolean ready = false;
            int n;
            read:
            while ((n = in.read(buffer)) > 0) {
                if (ready && running == null) {
                    // Even a line's first bytes: left for the next request, they would spoil its first frame.
                    killIdle("bytes");
                    break;
                }
                int start = 0;
                for (int i = 0; i < n; i++) {
                    if (buffer[i] == '\n') {
                        line.write(buffer, start, i - start);
                        int bytes = line.size();
                        DriverFrame parsed = DriverFrame.parse(json, line.toString(StandardCharsets.UTF_8));
                        if (bytes > LARGE_LINE_BYTES) {
                            line = new ByteArrayOutputStream(256);
                        }
                        line.reset();
                        start = i + 1;
                        DriverFrame frame = ready ? inRequest(parsed) : parsed;
                        if (frame == null) {
                            killIdle(parsed instanceof DriverFrame.Garbage garbage ? garbage.why() : aFrame(parsed));
                            break read;
                        }
                        queue(frame, bytes);
                        ready = true;
                    }
                }
                line.write(buffer, start, n - start);
                if (line.size() > MAX_FRAME_BYTES) {
                    String why = "a frame longer than " + MAX_FRAME_BYTES + " bytes";
                    if (running == null) {
                        killIdle(why);
                    } else {
                        queue(new DriverFrame.Garbage(why), 0);
                    }
                    break;
                }
            }
        } catch (IOException e) {
            // The stream closes when the process dies or is killed: end of channel either way.
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        String tail = stderrTail();
        if (!tail.isEmpty()) {
            LOG.warnf("%s closed its frame channel%s", this, tail);
        }
        frames.add(new Queued(new DriverFrame.Closed(), 0));
    }

    /** Queues {@code frame}, waiting for room. */
    private void queue(DriverFrame frame, int bytes) throws InterruptedException {
        int held = Math.min(bytes, MAX_QUEUED_BYTES);
        queueRoom.acquire(held);
        frames.add(new Queued(frame, held));
    }

    /** Kills the process for {@code what} it wrote while no request ran, so that it serves none. */
    private void killIdle(String what) {
        wroteWhileIdle = true;
        LOG.warnf("%s wrote %s while no request ran; killed, so that it serves none", this, what);
        kill();
    }

    /**
     * {@code frame} as the running request may receive it: garbage when it names another request
     * or when an output frame is larger than the protocol allows; null when no request runs (the
     * request's {@code done} ends it, so a second one finds none).
     */
    private DriverFrame inRequest(DriverFrame frame) {
        String id = running;
        if (id == null) {
            return null;
        }
        if (frame instanceof DriverFrame.Garbage) {
            return frame;
        }
        if (frame instanceof DriverFrame.Chunk chunk && chunk.id().equals(id)) {
            return chunk.text().length() <= MAX_CHUNK_CHARS ? chunk : new DriverFrame.Garbage("an output frame of "
                    + chunk.text().length() + " characters, above the limit of " + MAX_CHUNK_CHARS);
        }
        if (frame instanceof DriverFrame.Display display && display.id().equals(id)
                || frame instanceof DriverFrame.CollectedFile file && file.id().equals(id)) {
            return frame;
        }
        if (frame instanceof DriverFrame.Done done && done.id().equals(id)) {
            running = null;
            return done;
        }
        return new DriverFrame.Garbage(aFrame(frame) + (frame instanceof DriverFrame.Chunk
                || frame instanceof DriverFrame.Done ? " for another request" : " during a request"));
    }

    /** What kind of frame this is, never what it carries: user code may have written it. */
    private static String aFrame(DriverFrame frame) {
        if (frame instanceof DriverFrame.Chunk) {
            return "an output frame";
        }
        if (frame instanceof DriverFrame.Done) {
            return "a done frame";
        }
        if (frame instanceof DriverFrame.Display) {
            return "a display frame";
        }
        if (frame instanceof DriverFrame.CollectedFile) {
            return "a file frame";
        }
        return frame instanceof DriverFrame.Ready ? "a ready frame" : "a " + frame.getClass().getSimpleName() + " frame";
    }

    /**
     * The last driver diagnostic on the process's stderr, for the crashed request's message; empty
     * when there is none. Attributed to the stderr, not to the driver: user code can write the same.
     */
    private String diagnosis() {
        List<String> said = logTail().stream().filter(line -> line.startsWith(DIAGNOSTIC_PREFIX)).toList();
        return said.isEmpty() ? "" : " (its stderr says: " + escaped(said.get(said.size() - 1)) + ")";
    }

    /**
     * A line from the process, fit to quote in the worker's log: control characters escaped, so
     * that what user code wrote can neither end the worker's log line nor start one that looks
     * like the worker's own.
     */
    static String escaped(String line) {
        StringBuilder out = new StringBuilder(line.length());
        line.codePoints().forEach(c -> {
            if (Character.isISOControl(c) || c == '\\') {
                out.append(String.format("\\u%04x", c));
            } else {
                out.appendCodePoint(c);
            }
        });
        return out.toString();
    }

    /**
     * The last lines of the process's original stderr. Only its end is read: user code can write
     * into it through the descriptor (up to RLIMIT_FSIZE), and what it wrote need not be UTF-8.
     */
    private List<String> logTail() {
        try (RandomAccessFile file = new RandomAccessFile(launch.stderrLog().toFile(), "r")) {
            long start = Math.max(0, file.length() - LOG_TAIL_BYTES);
            byte[] tail = new byte[(int) (file.length() - start)];
            file.seek(start);
            file.readFully(tail);
            List<String> lines = new String(tail, StandardCharsets.UTF_8).lines().toList();
            return lines.subList(Math.max(0, lines.size() - 20), lines.size());
        } catch (IOException e) {
            return List.of();
        }
    }

    private String exitDescription() {
        try {
            if (process.waitFor(2, TimeUnit.SECONDS)) {
                int code = process.exitValue();
                return code > 128 ? "was killed by signal " + (code - 128) : "exited with code " + code;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return "closed its frame channel";
    }

    /** The end of the process's stderr, each line escaped and marked as the process's, user code's included. */
    private String stderrTail() {
        List<String> lines = logTail();
        return lines.isEmpty() ? "" : "; its stderr (the driver's and user code's alike) ends with:"
                + lines.stream().map(line -> "\n  | " + escaped(line)).collect(Collectors.joining());
    }

    private static String describe(DriverFrame frame) {
        if (frame instanceof DriverFrame.Garbage garbage) {
            return garbage.why();
        }
        if (frame instanceof DriverFrame.Closed) {
            return "it exited";
        }
        return "an unexpected frame: " + aFrame(frame);
    }

    @Override
    public String toString() {
        return runtime + " process " + process.pid();
    }
}
