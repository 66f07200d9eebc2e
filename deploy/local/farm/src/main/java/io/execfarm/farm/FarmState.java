package io.execfarm.farm;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The state directory of one local farm ({@code .farm/} by default): which processes {@code up}
 * started (a PID, port and log per application), the infrastructure's own state, and the
 * addresses clients need ({@code env}).
 *
 * <p>A PID file counts only while its process still carries this farm's marker on its command
 * line, so a stale file never gets an unrelated process (one that reused the PID) killed.
 */
final class FarmState {

    private final Path dir;

    FarmState(Path dir) {
        this.dir = dir.toAbsolutePath().normalize();
    }

    Path dir() {
        return dir;
    }

    /** The JVM flag that marks an application as this farm's. */
    String marker() {
        return "-Dexecfarm.farm.state=" + dir;
    }

    Path infraDir() {
        return dir.resolve("infra");
    }

    Path log(String app) {
        return dir.resolve(app + ".log");
    }

    void recordApp(String app, long pid, int port) {
        write(dir.resolve(app + ".pid"), Long.toString(pid));
        write(dir.resolve(app + ".port"), Integer.toString(port));
    }

    /** The application's process, if it runs and is this farm's. */
    Optional<ProcessHandle> process(String app) {
        return recorded(app).filter(ProcessHandle::isAlive).filter(this::carriesMarker);
    }

    /**
     * Whether the process recorded for {@code app} still runs, without {@link #process}'s check of
     * its command line: for the moments after this farm started it, while {@code setsid} is still
     * becoming {@code java} and its command line may not be readable yet: a benchmark's worker was
     * once reported "exited during start-up" with an empty log while it went on to run.
     */
    boolean alive(String app) {
        return recorded(app).map(ProcessHandle::isAlive).orElse(false);
    }

    private Optional<ProcessHandle> recorded(String app) {
        return read(dir.resolve(app + ".pid")).flatMap(text -> {
            try {
                return ProcessHandle.of(Long.parseLong(text.strip()));
            } catch (NumberFormatException e) {
                return Optional.empty();
            }
        });
    }

    int port(String app) {
        return read(dir.resolve(app + ".port")).map(text -> Integer.parseInt(text.strip()))
                .orElseThrow(() -> new IllegalStateException("no port recorded for " + app));
    }

    String url(String app) {
        return "http://127.0.0.1:" + port(app);
    }

    /** Applications with a PID file: the dispatcher first, then the workers in order. */
    List<String> apps() {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).filter(name -> name.endsWith(".pid"))
                    .map(name -> name.substring(0, name.length() - ".pid".length()))
                    .sorted(Comparator.comparing((String name) -> !name.equals("dispatcher"))
                            .thenComparing(FarmState::workerNumber))
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    List<String> workers() {
        return apps().stream().filter(app -> app.startsWith("worker-")).toList();
    }

    void forgetApp(String app) {
        delete(dir.resolve(app + ".pid"));
        delete(dir.resolve(app + ".port"));
    }

    /** What {@code ./farm env} prints: KAFKA_BOOTSTRAP, REDIS_URL, DISPATCHER_URL, EXECFARM_API_KEY. */
    Optional<Map<String, String>> env() {
        return read(dir.resolve("env")).map(text -> {
            Map<String, String> env = new LinkedHashMap<>();
            text.lines().filter(line -> line.contains("=")).forEach(line -> {
                int eq = line.indexOf('=');
                env.put(line.substring(0, eq), line.substring(eq + 1));
            });
            return env;
        });
    }

    void writeEnv(Map<String, String> env) {
        StringBuilder text = new StringBuilder();
        env.forEach((name, value) -> text.append(name).append('=').append(value).append('\n'));
        write(dir.resolve("env"), text.toString());
    }

    void forgetEnv() {
        delete(dir.resolve("env"));
    }

    /** Remembers the Julia the workers run ("binary", a tab, its origin), or that they run none. */
    void recordJulia(Optional<JuliaLocator.Julia> julia) {
        if (julia.isPresent()) {
            write(dir.resolve("julia"), julia.get().binary() + "\t" + julia.get().origin() + "\n");
        } else {
            delete(dir.resolve("julia"));
        }
    }

    Optional<JuliaLocator.Julia> julia() {
        return read(dir.resolve("julia")).map(String::strip).filter(text -> text.contains("\t"))
                .map(text -> new JuliaLocator.Julia(Path.of(text.substring(0, text.indexOf('\t'))),
                        text.substring(text.indexOf('\t') + 1)));
    }

    /** Up: its addresses are known and its dispatcher runs. */
    boolean isUp() {
        return env().isPresent() && process("dispatcher").isPresent();
    }

    private boolean carriesMarker(ProcessHandle process) {
        try {
            byte[] cmdline = Files.readAllBytes(Path.of("/proc", Long.toString(process.pid()), "cmdline"));
            List<String> args = new ArrayList<>(List.of(new String(cmdline, StandardCharsets.UTF_8).split("\0")));
            return args.contains(marker());
        } catch (IOException e) {
            return false;
        }
    }

    private static int workerNumber(String app) {
        try {
            return app.startsWith("worker-") ? Integer.parseInt(app.substring("worker-".length())) : 0;
        } catch (NumberFormatException e) {
            return Integer.MAX_VALUE;
        }
    }

    private Optional<String> read(Path file) {
        try {
            return Files.isRegularFile(file) ? Optional.of(Files.readString(file)) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** Into the state directory, which only its owner may read: it holds the API key and Redis's password. */
    private void write(Path file, String text) {
        try {
            Files.createDirectories(dir);
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
            Files.writeString(file, text);
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    private static void delete(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + file, e);
        }
    }
}
