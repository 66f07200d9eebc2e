package io.execfarm.farm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AppJvmTest {

    private static final AppJvm.AotJava JAVA_25 = new AppJvm.AotJava(Path.of("/opt/jdk-25/bin/java"), "25.0.3");

    @TempDir
    Path root;

    @BeforeEach
    void packagedApplications() throws Exception {
        for (LocalApps.App app : LocalApps.App.values()) {
            Path jar = app.jar(root);
            Files.createDirectories(jar.resolveSibling("app"));
            touch(jar, 100);
            touch(jar.resolveSibling("app").resolve("application.jar"), 100);
        }
    }

    @Test
    void withoutJava25EveryApplicationRunsOnJavaAndNothingIsTrained() {
        AppJvm jvm = new AppJvm(root, Optional.empty());
        assertFalse(jvm.needsTraining());
        for (LocalApps.App app : LocalApps.App.values()) {
            assertEquals(new AppJvm.Launch("java", List.of()), jvm.launch(app));
        }
        assertEquals("dispatcher on `java`, worker on `java`", jvm.describe());
    }

    @Test
    void java25WithoutCachesTrainsFirstAndRunsOnJavaMeanwhile() {
        AppJvm jvm = new AppJvm(root, Optional.of(JAVA_25));
        assertTrue(jvm.needsTraining());
        assertEquals(new AppJvm.Launch("java", List.of()), jvm.launch(LocalApps.App.WORKER));
        assertEquals(new AppJvm.Launch("/opt/jdk-25/bin/java", List.of("-XX:AOTCacheOutput="
                + root.resolve("executor-worker/target/quarkus-app/execfarm-25.0.3.aot"))),
                jvm.training(LocalApps.App.WORKER));
    }

    @Test
    void aCacheNewerThanEveryJarIsUsedAndOneOlderThanAnyIsNot() throws Exception {
        AppJvm jvm = new AppJvm(root, Optional.of(JAVA_25));
        for (LocalApps.App app : LocalApps.App.values()) {
            touch(app.jar(root).resolveSibling("execfarm-25.0.3.aot"), 200);
            touch(app.jar(root).resolveSibling("execfarm-25.0.3.aot.config"), 200);
        }
        assertTrue(jvm.trained());
        assertFalse(Files.exists(LocalApps.App.WORKER.jar(root).resolveSibling("execfarm-25.0.3.aot.config")),
                "the training's left-over configuration is removed");
        assertFalse(jvm.needsTraining());
        assertEquals(new AppJvm.Launch("/opt/jdk-25/bin/java", List.of("-XX:AOTCache="
                + root.resolve("dispatcher/target/quarkus-app/execfarm-25.0.3.aot"))),
                jvm.launch(LocalApps.App.DISPATCHER));

        touch(LocalApps.App.WORKER.jar(root).resolveSibling("app").resolve("application.jar"), 300);
        assertTrue(jvm.needsTraining(), "a rebuilt worker needs a new cache");
        assertEquals(new AppJvm.Launch("java", List.of()), jvm.launch(LocalApps.App.WORKER));
        assertEquals("/opt/jdk-25/bin/java", jvm.launch(LocalApps.App.DISPATCHER).java(),
                "the dispatcher's cache still fits");
        assertEquals("dispatcher on Java 25.0.3 with its AOT cache, worker on `java`", jvm.describe());
    }

    @Test
    void aJavaHomesReleaseFileGivesItsVersion() throws Exception {
        Files.writeString(root.resolve("release"), "IMPLEMENTOR=\"Eclipse Adoptium\"\nJAVA_VERSION=\"25.0.3\"\n");
        assertEquals(Optional.of("25.0.3"), AppJvm.release(root));
        assertEquals(Optional.empty(), AppJvm.release(root.resolve("nowhere")));
    }

    @Test
    void offKeepsEverythingOnJava() {
        assertEquals(Optional.empty(), AppJvm.find(root, Map.of("EXECFARM_AOT", "off")).aotJava());
    }

    @Test
    void aNamedJavaOlderThan25IsNotUsed() throws Exception {
        Path home = Files.createDirectories(root.resolve("jdk-17"));
        Files.writeString(home.resolve("release"), "JAVA_VERSION=\"17.0.15\"\n");
        assertEquals(Optional.empty(),
                AppJvm.find(root, Map.of("EXECFARM_AOT_JAVA", home.resolve("bin/java").toString())).aotJava());
        Files.writeString(home.resolve("release"), "JAVA_VERSION=\"25\"\n");
        assertEquals(Optional.of(new AppJvm.AotJava(home.resolve("bin/java"), "25")),
                AppJvm.find(root, Map.of("EXECFARM_AOT_JAVA", home.resolve("bin/java").toString())).aotJava());
    }

    private static void touch(Path file, long second) throws Exception {
        if (!Files.exists(file)) {
            Files.createFile(file);
        }
        Files.setLastModifiedTime(file, FileTime.from(Instant.ofEpochSecond(second)));
    }
}
