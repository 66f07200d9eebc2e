package io.execfarm.worker.runtime;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.execfarm.contracts.Result;
import io.execfarm.worker.sandbox.LaunchSpec;
import io.execfarm.worker.sandbox.Sandbox;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Starts warm, sandboxed processes of one runtime: driver script in place, interpreter resolved
 * once to its real executable, and every process warmed up before it is handed out.
 */
public final class RuntimeLauncher {

    private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(60);

    private final RuntimeDefinition definition;
    private final Sandbox sandbox;
    private final ObjectMapper json;
    /** In a flag, replaced by a name unique to each process. */
    public static final String PROCESS_TOKEN = "{process}";

    private final List<String> command;
    private final String version;

    private RuntimeLauncher(RuntimeDefinition definition, Sandbox sandbox, ObjectMapper json, List<String> command,
            String version) {
        this.definition = definition;
        this.sandbox = sandbox;
        this.json = json;
        this.command = command;
        this.version = version;
    }

    /**
     * Checks that the runtime can run here, inside the sandbox its processes will get: its binary
     * is found on the sandbox's PATH (or at its absolute path), the sandbox uid may execute it, and
     * its driver starts.
     *
     * @throws RuntimeUnavailableException with the reason, when it cannot
     */
    public static RuntimeLauncher prepare(RuntimeDefinition definition, Sandbox sandbox, ObjectMapper json)
            throws RuntimeUnavailableException {
        Path driver = installDriver(definition, sandbox);
        List<String> probe = new ArrayList<>();
        probe.add(definition.binary());
        definition.flags().forEach(flag -> probe.add(flag.replace(PROCESS_TOKEN, processName(definition, "probe"))));
        probe.add(driver.toString());
        probe.add("--describe");
        List<String> described = probe(definition, sandbox, probe);
        String version = described.get(1);
        List<String> command = new ArrayList<>();
        command.add(described.get(0));
        command.addAll(definition.flags());
        command.addAll(KnownRuntimes.versionFlags(definition, version));
        command.add(driver.toString());
        return new RuntimeLauncher(definition, sandbox, json, List.copyOf(command), version);
    }

    public String runtime() {
        return definition.name();
    }

    /** The interpreter processes run, as resolved inside the sandbox. */
    public String interpreter() {
        return command.get(0);
    }

    /** The interpreter's version, as its driver reports it. */
    public String version() {
        return version;
    }

    /**
     * A name no other process of any worker on this host has: the worker's pid, {@code which} (a
     * slot, or the boot probe) and the time. A file named after it (a trace-compile recording) is
     * written by this process's uid alone, which another worker's processes do not share.
     */
    private static String processName(RuntimeDefinition definition, String which) {
        return definition.name() + "-" + ProcessHandle.current().pid() + "-" + which + "-" + System.currentTimeMillis();
    }

    /**
     * Starts a process for pool slot {@code slot} and runs the warm-up; blocks until it is warm. A
     * flag's {@value #PROCESS_TOKEN} becomes a name unique to this process ({@link #processName}),
     * e.g. for a file each process writes.
     */
    public RuntimeProcess start(int slot) throws RuntimeStartException {
        String processName = processName(definition, Integer.toString(slot));
        List<String> started = command.stream().map(arg -> arg.replace(PROCESS_TOKEN, processName)).toList();
        LaunchSpec launch;
        try {
            launch = sandbox.prepare(definition.name(), slot, started, definition.confinement(), definition.env());
        } catch (IOException e) {
            throw new RuntimeStartException(definition.name() + ": cannot prepare a sandbox: " + e.getMessage(), e);
        }
        RuntimeProcess process;
        try {
            process = RuntimeProcess.start(definition.name(), launch, sandbox, json, definition.startTimeout());
        } catch (RuntimeStartException e) {
            sandbox.discard(launch);
            throw e;
        }
        if (!definition.warmUp().isBlank()) {
            ExecutionOutcome warm;
            try {
                warm = process.execute(new ExecutionSpec("warm-up", definition.warmUp(), null, 0,
                        definition.startTimeout()), OutputSink.DISCARD);
            } catch (InterruptedException e) {
                dispose(process);
                Thread.currentThread().interrupt();
                throw new RuntimeStartException(definition.name() + ": interrupted during the warm-up", e);
            }
            if (warm.status() != Result.Status.OK) {
                dispose(process);
                throw new RuntimeStartException(definition.name() + ": the warm-up failed with " + warm.status()
                        + (warm.error() != null ? ": " + warm.error().message() : ""));
            }
        }
        process.settleFirst();
        return process;
    }

    /** Kills a process and deletes its working directory. */
    public void dispose(RuntimeProcess process) {
        process.kill();
        sandbox.discard(process.launch());
    }

    private static Path installDriver(RuntimeDefinition definition, Sandbox sandbox) throws RuntimeUnavailableException {
        try (InputStream in = RuntimeLauncher.class.getClassLoader().getResourceAsStream(definition.driverResource())) {
            if (in == null) {
                throw new RuntimeUnavailableException(definition.name() + ": no driver resource "
                        + definition.driverResource());
            }
            Path dir = sandbox.driverDirectory();
            String fileName = Path.of(definition.driverResource()).getFileName().toString();
            Path target = dir.resolve(definition.name() + "-" + fileName);
            Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
            Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rw-r--r--"));
            return target;
        } catch (IOException e) {
            throw new RuntimeUnavailableException(definition.name() + ": cannot install its driver: " + e.getMessage());
        }
    }

    private static List<String> probe(RuntimeDefinition definition, Sandbox sandbox, List<String> probe)
            throws RuntimeUnavailableException {
        LaunchSpec launch;
        try {
            launch = sandbox.prepare(definition.name(), 0, probe, definition.confinement(), definition.env());
        } catch (IOException e) {
            throw new RuntimeUnavailableException(definition.name() + ": cannot prepare a sandbox: " + e.getMessage());
        }
        try {
            Process process = sandbox.spawn(launch, builder -> builder.redirectErrorStream(true));
            byte[] out = process.getInputStream().readAllBytes();
            if (!process.waitFor(PROBE_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new RuntimeUnavailableException(definition.name() + ": '" + definition.binary()
                        + "' did not answer within " + PROBE_TIMEOUT.toSeconds() + " s");
            }
            List<String> lines = new String(out, StandardCharsets.UTF_8).strip().lines().toList();
            if (process.exitValue() != 0 || lines.size() < 2) {
                throw new RuntimeUnavailableException(definition.name() + ": '" + definition.binary()
                        + "' cannot run the driver inside the sandbox (exit code " + process.exitValue() + "): "
                        + String.join(" / ", lines) + ". The interpreter must be on the sandbox PATH or given as an "
                        + "absolute path, executable by an unprivileged user, and runnable without the worker's "
                        + "environment (a pyenv shim or juliaup launcher is not; name the real interpreter).");
            }
            return lines.subList(lines.size() - 2, lines.size());
        } catch (IOException e) {
            throw new RuntimeUnavailableException(definition.name() + ": binary '" + definition.binary()
                    + "' cannot be run (" + e.getMessage() + ")");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RuntimeUnavailableException(definition.name() + ": interrupted while probing");
        } finally {
            sandbox.discard(launch);
        }
    }
}
