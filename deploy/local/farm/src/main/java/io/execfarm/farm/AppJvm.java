package io.execfarm.farm;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The JVM the farm's applications run on. Java 17 ({@code java} on PATH) everywhere; where a Java 25
 * or later is installed, that one, with an AOT cache per application (JEP 483 and 515: classes
 * loaded and linked, and method profiles, from a training run), once a training run has made the
 * cache: {@link LocalFarm} runs it on the first {@code ./farm up} after a build. An application
 * with no cache that fits its jars runs on {@code java} as before.
 *
 * <p>{@code EXECFARM_AOT=off} keeps every application on {@code java} (for measuring both ways);
 * {@code EXECFARM_AOT_JAVA} names the Java 25+ executable when it is not under /usr/lib/jvm.
 */
final class AppJvm {

    /**
     * A cache sits beside its application's jar, named for the Java that wrote it. Each application
     * is packaged as {@code aot-jar} (its application.properties), so that its classes are cacheable.
     */
    private static final String CACHE_PREFIX = "execfarm-";
    private static final Path JVMS = Path.of("/usr/lib/jvm");
    private static final Pattern RELEASE_VERSION = Pattern.compile("^JAVA_VERSION=\"((\\d+)[^\"]*)\"", Pattern.MULTILINE);
    private static final int AOT_SINCE = 25;

    /** A Java 25+ installation: its {@code java} and its full version, which names the caches it reads. */
    record AotJava(Path java, String version) {
    }

    /** How an application is started: the executable and the options that come before {@code -jar}. */
    record Launch(String java, List<String> options) {
    }

    private final Path repoRoot;
    private final Optional<AotJava> aotJava;

    AppJvm(Path repoRoot, Optional<AotJava> aotJava) {
        this.repoRoot = repoRoot;
        this.aotJava = aotJava;
    }

    static AppJvm find(Path repoRoot, Map<String, String> env) {
        if ("off".equalsIgnoreCase(env.getOrDefault("EXECFARM_AOT", ""))) {
            return new AppJvm(repoRoot, Optional.empty());
        }
        String named = env.get("EXECFARM_AOT_JAVA");
        if (named != null && !named.isBlank()) {
            Path java = Path.of(named).toAbsolutePath();
            return new AppJvm(repoRoot, release(java.getParent().getParent()).filter(AppJvm::aotCapable)
                    .map(version -> new AotJava(java, version)));
        }
        return new AppJvm(repoRoot, newestInstalled());
    }

    Optional<AotJava> aotJava() {
        return aotJava;
    }

    /** Whether a Java 25+ is here and some application has no cache that fits its current jars. */
    boolean needsTraining() {
        return aotJava.isPresent()
                && Stream.of(LocalApps.App.values()).anyMatch(app -> !fresh(app, aotJava.get()));
    }

    /** The usual start: with the application's cache where one fits, else on {@code java}. */
    Launch launch(LocalApps.App app) {
        return aotJava.filter(jdk -> fresh(app, jdk))
                .map(jdk -> new Launch(jdk.java().toString(), List.of("-XX:AOTCache=" + cache(app, jdk))))
                .orElse(new Launch("java", List.of()));
    }

    /** How each application starts now, for a report: "dispatcher on Java 25.0.3 with its AOT cache, worker on `java`". */
    String describe() {
        return Stream.of(LocalApps.App.values())
                .map(app -> app.name().toLowerCase(Locale.ROOT) + " on " + (launch(app).options().isEmpty() ? "`java`"
                        : "Java " + aotJava.orElseThrow().version() + " with its AOT cache"))
                .collect(Collectors.joining(", "));
    }

    /** A training start: the JVM records what the application loads and runs, and writes the cache as it exits. */
    Launch training(LocalApps.App app) {
        AotJava jdk = aotJava.orElseThrow();
        return new Launch(jdk.java().toString(), List.of("-XX:AOTCacheOutput=" + cache(app, jdk)));
    }

    /** After a training run: drops what the JVM left beside each cache, and says whether every cache is there. */
    boolean trained() {
        AotJava jdk = aotJava.orElseThrow();
        boolean all = true;
        for (LocalApps.App app : LocalApps.App.values()) {
            Path cache = cache(app, jdk);
            try {
                Files.deleteIfExists(cache.resolveSibling(cache.getFileName() + ".config"));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            all &= fresh(app, jdk);
        }
        return all;
    }

    private Path cache(LocalApps.App app, AotJava jdk) {
        return app.jar(repoRoot).resolveSibling(CACHE_PREFIX + jdk.version() + ".aot");
    }

    /** A cache fits when it is newer than every jar of the application (a build rewrites them). */
    private boolean fresh(LocalApps.App app, AotJava jdk) {
        Path cache = cache(app, jdk);
        if (!Files.isRegularFile(cache)) {
            return false;
        }
        Path appDir = app.jar(repoRoot).getParent();
        try (Stream<Path> files = Files.walk(appDir)) {
            FileTime built = Files.getLastModifiedTime(cache);
            return files.filter(file -> file.toString().endsWith(".jar") || file.toString().endsWith(".dat"))
                    .allMatch(file -> lastModified(file).compareTo(built) < 0);
        } catch (IOException e) {
            return false;
        }
    }

    private static FileTime lastModified(Path file) {
        try {
            return Files.getLastModifiedTime(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Optional<AotJava> newestInstalled() {
        if (!Files.isDirectory(JVMS)) {
            return Optional.empty();
        }
        try (Stream<Path> homes = Files.list(JVMS)) {
            return homes.filter(home -> !Files.isSymbolicLink(home))
                    .filter(home -> Files.isExecutable(home.resolve("bin/java")))
                    .flatMap(home -> release(home).filter(AppJvm::aotCapable)
                            .map(version -> new AotJava(home.resolve("bin/java"), version)).stream())
                    .max(Comparator.comparing(jdk -> Runtime.Version.parse(jdk.version())));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** The version in a Java home's {@code release} file. */
    static Optional<String> release(Path home) {
        try {
            Matcher matcher = RELEASE_VERSION.matcher(Files.readString(home.resolve("release")));
            return matcher.find() ? Optional.of(matcher.group(1)) : Optional.empty();
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    private static boolean aotCapable(String version) {
        return Runtime.Version.parse(version).feature() >= AOT_SINCE;
    }
}
