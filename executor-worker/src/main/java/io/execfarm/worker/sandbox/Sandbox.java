package io.execfarm.worker.sandbox;

import io.execfarm.worker.threads.DaemonThreads;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.UnaryOperator;
import org.jboss.logging.Logger;

/**
 * Prepares confined launches of runtime processes: a private working directory per process, an
 * environment built from an allow-list (the worker's secrets never reach user code), rlimits, and
 * the strongest {@link Isolation} the machine allows, detected once. The strongest levels hand the
 * namespaces and the file system view to bubblewrap, a well-kept tool built for this (Flatpak's
 * sandbox), rather than growing a chain of unshare and mount calls here.
 */
public final class Sandbox implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(Sandbox.class);

    /**
     * PID 1 of each namespace: starts the runtime with the real stdin and waits for it. While it
     * waits, sh reaps every orphan the namespace hands it, so drivers never reap (which could steal
     * an exit status their runtime is waiting for). Its exit status is the runtime's. User code,
     * running under another uid, cannot signal it.
     */
    private static final List<String> NAMESPACE_INIT = List.of("sh", "-c",
            "exec 3<&0; \"$@\" <&3 3<&- & wait $!", "execfarm-init");

    private static final String DRIVERS = "drivers";

    private final SandboxSettings settings;
    private final Isolation isolation;
    private final Optional<Cgroups> cgroups;
    /** Where processes get a uid of their own: the uids, held for the sandbox's life. */
    private final Optional<UidRange> uids;
    private final boolean rlimits;
    private final boolean parentDeathSignal;
    private final Path logDir;
    private final AtomicLong serial = new AtomicLong();
    /**
     * Starts every process. PR_SET_PDEATHSIG fires when the *thread* that spawned a process ends,
     * so all spawns come from this one thread, which lives as long as the sandbox.
     */
    private final ExecutorService spawner = Executors.newSingleThreadExecutor(DaemonThreads.named("execfarm-spawner"));

    private Sandbox(SandboxSettings settings, Isolation isolation, Optional<Cgroups> cgroups, Optional<UidRange> uids,
            boolean rlimits, boolean parentDeathSignal, Path logDir) {
        this.settings = settings;
        this.isolation = isolation;
        this.cgroups = cgroups;
        this.uids = uids;
        this.rlimits = rlimits;
        this.parentDeathSignal = parentDeathSignal;
        this.logDir = logDir;
    }

    /** A sandbox with the strongest isolation this machine allows. */
    public static Sandbox create(SandboxSettings settings) {
        return create(settings, Isolation.BUBBLEWRAP_AND_UID, Isolation.NONE);
    }

    /**
     * A sandbox with the strongest isolation this machine allows, but none stronger than
     * {@code strongest}.
     *
     * @throws IllegalStateException when that is weaker than {@code weakest}, saying what is missing
     */
    public static Sandbox create(SandboxSettings settings, Isolation strongest, Isolation weakest) {
        try {
            Path root = Files.createDirectories(settings.workRoot());
            // Traversable by the sandbox uids (to reach their own directories and the drivers), not listable.
            Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwx--x--x"));
            Path logs = Files.createDirectories(root.resolve("logs"));
            Files.setPosixFilePermissions(logs, PosixFilePermissions.fromString("rwx------"));
            Isolation isolation = detect(settings, strongest);
            if (isolation.weakerThan(weakest)) {
                Scratch.deleteTree(root);
                throw new IllegalStateException("the sandbox can give runtime processes only " + isolation
                        + ", weaker than the weakest this worker accepts (execfarm.worker.sandbox.minimum-isolation="
                        + weakest + "): " + missing(isolation));
            }
            boolean rlimits = settings.enabled() && onPath("prlimit");
            if (isolation != Isolation.BUBBLEWRAP_AND_UID) {
                LOG.warnf("sandbox: INSECURE: isolation is %s, weaker than %s: %s", isolation,
                        Isolation.BUBBLEWRAP_AND_UID, missing(isolation));
            }
            if (settings.enabled() && !rlimits) {
                LOG.warn("sandbox: prlimit (util-linux) is not on PATH, so runtime processes run WITHOUT rlimits");
            }
            boolean parentDeathSignal = onPath("setpriv");
            if (!parentDeathSignal) {
                LOG.warn("sandbox: setpriv (util-linux) is not on PATH, so runtime processes outlive a worker killed hard");
            }
            // Only root can move a process into a group, and it must, before dropping to the slot's uid.
            Optional<Cgroups> cgroups = isolation.ownUid() ? Cgroups.create() : Optional.empty();
            Optional<UidRange> uids = isolation.ownUid()
                    ? Optional.of(UidRange.claim(settings.uidLockDir(), settings.uidBase(), settings.slots()))
                    : Optional.empty();
            LOG.infof("sandbox: isolation %s, rlimits %s, memory and task limits %s, %s, work root %s", isolation,
                    rlimits ? "on" : "OFF", cgroups.isPresent() ? "on (cgroups)" : "OFF",
                    uids.map(UidRange::toString).orElse("no uid of their own"), root);
            return new Sandbox(settings, isolation, cgroups, uids, rlimits, parentDeathSignal, logs);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare the sandbox work root " + settings.workRoot(), e);
        }
    }

    public Isolation isolation() {
        return isolation;
    }

    /** Whether each process gets a control group of its own, with a memory and a task limit. */
    public boolean limitsMemory() {
        return cgroups.isPresent();
    }

    /** The uid {@code runtime}'s pool slot {@code slot} runs as, where processes get uids of their own. */
    public OptionalInt uid(String runtime, int slot) {
        return uids.map(range -> OptionalInt.of(range.uid(runtime, slot))).orElse(OptionalInt.empty());
    }

    /** The directory every sandboxed process can read, for driver scripts. */
    public Path driverDirectory() throws IOException {
        Path dir = Files.createDirectories(settings.workRoot().resolve(DRIVERS));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        return dir;
    }

    /**
     * Creates the private directory of a new process in pool slot {@code slot} and the argv that
     * starts {@code runtimeCommand} confined.
     */
    public LaunchSpec prepare(String runtime, int slot, List<String> runtimeCommand, Confinement confinement,
            Map<String, String> runtimeEnv) throws IOException {
        String name = runtime + "-" + slot + "-" + serial.incrementAndGet();
        Path workDir = Files.createDirectories(settings.workRoot().resolve(name));
        Files.setPosixFilePermissions(workDir, PosixFilePermissions.fromString("rwx------"));
        Path tmp = Files.createDirectories(workDir.resolve("tmp"));
        int uid = uid(runtime, slot).orElse(-1);
        if (isolation.ownUid()) {
            chown(workDir, uid);
            chown(tmp, uid);
        }

        // Where it has a private view, a directory of its own in each collected directory's place.
        Map<Path, Path> collected = new LinkedHashMap<>();
        if (isolation.privateView()) {
            for (Path place : confinement.access().collected()) {
                Path own = Files.createDirectories(settings.workRoot().resolve(name + "-collected-" + collected.size()));
                Files.setPosixFilePermissions(own, PosixFilePermissions.fromString("rwx------"));
                if (isolation.ownUid()) {
                    chown(own, uid);
                }
                collected.put(place, own);
            }
        }

        List<String> command = new ArrayList<>();
        if (parentDeathSignal) {
            // A worker killed hard takes its processes with it: the launcher dies with the worker,
            // and bubblewrap's --die-with-parent, unshare's --kill-child (or, without namespaces,
            // the same signal) takes the rest.
            command.addAll(List.of("setpriv", "--pdeathsig", "KILL"));
        }
        Optional<ProcessCgroup> cgroup = Optional.empty();
        if (cgroups.isPresent() && confinement.memoryBytes() > 0) {
            // The groups' parent is named after the JVM, which may hold two sandboxes (a test's and
            // a Quarkus test's worker): the slot's uid, held by this sandbox alone, keeps apart what
            // their serials do not.
            cgroup = Optional.of(cgroups.get().create(name + "-uid" + uid, confinement.memoryBytes(),
                    settings.maxProcesses(), settings.cpuCores(), settings.cpuSeconds()));
            command.addAll(cgroup.get().join());
        }
        switch (isolation) {
            case BUBBLEWRAP_AND_UID -> {
                command.addAll(dropToUid(uid));
                command.addAll(bubblewrap(workDir, runtimeCommand.get(0), confinement.access(), collected));
            }
            case BUBBLEWRAP -> command.addAll(bubblewrap(workDir, runtimeCommand.get(0), confinement.access(), collected));
            case NAMESPACES_AND_UID -> {
                command.addAll(List.of("unshare", "--pid", "--fork", "--kill-child", "--mount-proc"));
                command.addAll(NAMESPACE_INIT);
                command.addAll(dropToUid(uid));
            }
            case UID_ONLY -> {
                // Nothing else contains what user code starts here: its own session keeps even
                // orphans (a fork bomb's) findable, so they are killed with the request.
                command.add("setsid");
                command.addAll(dropToUid(uid));
                if (parentDeathSignal) {
                    // The kernel clears the parent-death signal when the uid changes: set it again.
                    command.addAll(List.of("setpriv", "--pdeathsig", "KILL"));
                }
            }
            case USER_NAMESPACE -> {
                command.addAll(List.of("unshare", "--user", "--map-root-user", "--pid", "--fork", "--kill-child",
                        "--mount-proc"));
                command.addAll(NAMESPACE_INIT);
            }
            case RLIMITS_ONLY, NONE -> { }
        }
        if (rlimits) {
            command.add("prlimit");
            if (confinement.addressSpaceBytes() > 0) {
                command.add("--as=" + confinement.addressSpaceBytes());
            }
            if (cgroup.flatMap(ProcessCgroup::cpu).isEmpty()) {
                command.add("--cpu=" + settings.cpuSeconds());
            }
            command.add("--fsize=" + settings.maxFileSizeBytes());
            command.add("--nofile=" + settings.openFiles());
            // RLIMIT_NPROC counts every task of the real uid; only a uid of its own makes it per process.
            if (isolation.ownUid()) {
                command.add("--nproc=" + settings.maxProcesses());
            }
            command.add("--");
        }
        command.addAll(runtimeCommand);

        Map<String, String> env = new LinkedHashMap<>();
        for (String passed : settings.passEnv()) {
            String value = System.getenv(passed);
            if (value != null) {
                env.put(passed, value);
            }
        }
        env.put("PATH", settings.path());
        env.put("HOME", workDir.toString());
        env.put("TMPDIR", isolation.privateView() ? "/tmp" : tmp.toString());
        env.putAll(runtimeEnv);
        // With a private view these are tmpfs mounts of the process's own, counted in its memory.
        List<Path> scratch = isolation.privateView() ? List.of(Path.of("/tmp"), Path.of("/dev/shm"), workDir)
                : List.of(tmp, workDir);
        // Each launcher's child is its namespace's init: unshare's sh, or bubblewrap's own.
        boolean namespaced = isolation == Isolation.NAMESPACES_AND_UID || isolation == Isolation.USER_NAMESPACE
                || isolation.privateView();
        return new LaunchSpec(command, env, workDir, logDir.resolve(name + ".stderr"), namespaced, cgroup,
                isolation == Isolation.UID_ONLY, isolation.ownUid() ? uid : -1, scratch, isolation.privateView(), collected);
    }

    /**
     * Starts a prepared process from the spawner thread: its command, working directory and
     * complete environment from {@code spec}; what {@code redirects} adds (stdout, stderr).
     */
    public Process spawn(LaunchSpec spec, UnaryOperator<ProcessBuilder> redirects) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(spec.command()).directory(spec.workDir().toFile());
        builder.environment().clear();
        builder.environment().putAll(spec.environment());
        redirects.apply(builder);
        try {
            return spawner.submit(builder::start).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while starting a process", e);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        }
    }

    /** Deletes the work root, driver scripts and logs included; for worker shutdown, after every process is gone. */
    @Override
    public void close() {
        spawner.shutdown();
        cgroups.ifPresent(Cgroups::close);
        uids.ifPresent(UidRange::close);
        try {
            Scratch.deleteTree(settings.workRoot());
        } catch (IOException e) {
            LOG.warnf("sandbox: could not delete the work root %s: %s", settings.workRoot(), e.getMessage());
        }
    }

    /**
     * Deletes what a retired process left behind, after moving what it wrote in its collected
     * directories into the real ones. Never follows links user code may have planted.
     */
    public void discard(LaunchSpec spec) {
        spec.collected().forEach((place, own) -> {
            try {
                Scratch.collect(own, place);
            } catch (IOException e) {
                LOG.warnf("sandbox: could not collect %s into %s: %s", own, place, e.getMessage());
            }
        });
        try {
            for (Path own : spec.collected().values()) {
                Scratch.deleteTree(own);
            }
            Scratch.deleteTree(spec.workDir());
            Files.deleteIfExists(spec.stderrLog());
        } catch (IOException e) {
            LOG.warnf("sandbox: could not delete %s: %s", spec.workDir(), e.getMessage());
        }
        spec.cgroup().ifPresent(group -> {
            try {
                group.delete();
            } catch (IOException e) {
                LOG.warnf("sandbox: could not remove the control group %s: %s", group.memory(), e.getMessage());
            }
        });
    }

    private static void chown(Path path, int uid) throws IOException {
        UserPrincipalLookupService lookup = path.getFileSystem().getUserPrincipalLookupService();
        PosixFileAttributeView view = Files.getFileAttributeView(path, PosixFileAttributeView.class);
        view.setOwner(lookup.lookupPrincipalByName(Integer.toString(uid)));
        view.setGroup(lookup.lookupPrincipalByGroupName(Integer.toString(uid)));
    }

    /** What a weaker isolation lacks, and what would give the strongest. */
    private static String missing(Isolation isolation) {
        return switch (isolation) {
            case BUBBLEWRAP_AND_UID -> "nothing";
            case NONE -> "the sandbox is disabled by configuration";
            case BUBBLEWRAP -> "runtime processes share the worker's uid; run the worker as root so each gets a uid "
                    + "of its own";
            case NAMESPACES_AND_UID, UID_ONLY -> "runtime processes share the worker's network and file system; install "
                    + "bubblewrap and python3-seccomp and allow user namespaces (or lift execfarm.worker.sandbox.isolation)";
            default -> "install bubblewrap and python3-seccomp, allow user namespaces, and run the worker as root, so "
                    + "runtime processes get a private network, file system and uid";
        };
    }

    /** Runs the rest of the command as {@code uid}, with no capabilities and no way to gain any. */
    private static List<String> dropToUid(int uid) {
        return List.of("setpriv", "--reuid=" + uid, "--regid=" + uid, "--clear-groups", "--no-new-privs",
                "--inh-caps=-all", "--bounding-set=-all");
    }

    private List<String> bubblewrap(Path workDir, String interpreter, RuntimeAccess access, Map<Path, Path> collected)
            throws IOException {
        return BubblewrapCommand.arguments(workDir, driverDirectory(), interpreter, settings.path(), access, collected,
                settings.tmpBytes(), syscallFilter(settings));
    }

    /** Where {@link #detect} wrote the sandbox's seccomp filter. */
    private static Path syscallFilter(SandboxSettings settings) {
        return settings.workRoot().resolve("syscall-filter.bpf");
    }

    private static Isolation detect(SandboxSettings settings, Isolation strongest) throws IOException {
        if (!settings.enabled()) {
            return Isolation.NONE;
        }
        boolean root = ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
        boolean setpriv = root && onPath("setpriv");
        if (onPath("bwrap") && allowed(Isolation.BUBBLEWRAP, strongest)) {
            // The real thing, on a throw-away directory: bubblewrap needs user namespaces, which
            // kernels and container runtimes may forbid, and a syscall filter built here.
            Path probe = Files.createTempDirectory(settings.workRoot(), "probe-");
            try {
                Path filter = SyscallFilter.write(settings.workRoot(), settings.path());
                Files.setPosixFilePermissions(filter, PosixFilePermissions.fromString("rw-r--r--"));
                List<String> bwrap = BubblewrapCommand.arguments(probe, probe, "true", settings.path(),
                        RuntimeAccess.NONE, Map.of(), settings.tmpBytes(), filter);
                if (allowed(Isolation.BUBBLEWRAP_AND_UID, strongest) && setpriv) {
                    List<String> command = new ArrayList<>(dropToUid(settings.uidBase()));
                    command.addAll(bwrap);
                    command.add("true");
                    Files.setPosixFilePermissions(probe, PosixFilePermissions.fromString("rwxr-xr-x"));
                    if (succeeds(command.toArray(String[]::new))) {
                        return Isolation.BUBBLEWRAP_AND_UID;
                    }
                }
                List<String> command = new ArrayList<>(bwrap);
                command.add("true");
                if (!root && succeeds(command.toArray(String[]::new))) {
                    return Isolation.BUBBLEWRAP;
                }
                LOG.warn("sandbox: bubblewrap is installed but cannot run here (user namespaces forbidden?)");
            } catch (IOException e) {
                LOG.warnf("sandbox: no syscall filter, so no bubblewrap: %s", e.getMessage());
            } finally {
                Files.deleteIfExists(probe);
            }
        }
        if (allowed(Isolation.NAMESPACES_AND_UID, strongest) && setpriv
                && succeeds("unshare", "--pid", "--fork", "--kill-child", "--mount-proc", "true")) {
            return Isolation.NAMESPACES_AND_UID;
        }
        if (allowed(Isolation.UID_ONLY, strongest) && setpriv) {
            return Isolation.UID_ONLY;
        }
        if (allowed(Isolation.USER_NAMESPACE, strongest)
                && succeeds("unshare", "--user", "--map-root-user", "--pid", "--fork", "--kill-child", "--mount-proc", "true")) {
            return Isolation.USER_NAMESPACE;
        }
        return Isolation.RLIMITS_ONLY;
    }

    private static boolean allowed(Isolation candidate, Isolation strongest) {
        return candidate.ordinal() >= strongest.ordinal();
    }

    private static boolean onPath(String program) {
        return SearchPath.find(program, System.getenv("PATH")).isPresent();
    }

    private static boolean succeeds(String... command) {
        if (!onPath(command[0])) {
            return false;
        }
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
