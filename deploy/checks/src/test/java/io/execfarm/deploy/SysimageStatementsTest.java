package io.execfarm.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * deploy/julia/precompile-safe.jl, which compiles workers' recorded precompile statements into a
 * system image: it evaluates statements over Core, Base and the standard library and nothing a
 * request could have planted in a recording. Runs it (outside an image build, where it behaves the
 * same) on real Julia: the one CI installs ({@code EXECFARM_JULIA_BINARY}), else the installer's.
 */
class SysimageStatementsTest {

    @Test
    void compilesLibraryStatementsAndNeverEvaluatesAnythingElse(@TempDir Path dir) throws Exception {
        Path planted = dir.resolve("planted");
        String report = evaluate(dir, List.of(
                "precompile(Tuple{typeof(Base.println), Base.IOStream, String})",
                "precompile(Tuple{typeof(LinearAlgebra.norm), Array{Float64, 2}})",
                "precompile(Tuple{typeof(Base.run), typeof(write(\"" + planted + "\", \"x\"))})",
                "precompile(Tuple{Val{Core.eval(Main, :(write(\"" + planted + "\", \"x\")))}})",
                "precompile(Tuple{typeof(Main.Cell.f), Int64})",
                "write(\"" + planted + "\", \"x\")"), List.of());
        assertEquals("compiled 2, skipped 4 (not Core, Base, the standard library or the driver), failed 0", report);
        assertFalse(Files.exists(planted), "a planted statement ran");
    }

    @Test
    void withTheDriverItsOwnStatementsCompileAndStillNothingElseRuns(@TempDir Path dir) throws Exception {
        Path planted = dir.resolve("planted");
        Path driver = DeployFiles.root().resolve("executor-worker/src/main/resources/drivers/julia/driver.jl");
        String report = evaluate(dir, List.of(
                "precompile(Tuple{typeof(ExecfarmDriver.script), Array{String, 1}})",
                "precompile(Tuple{typeof(ExecfarmDriver.planted_by_a_request), Int64})",
                "precompile(Tuple{Val{ExecfarmDriver.eval(:(write(\"" + planted + "\", \"x\")))}})"),
                List.of(driver.toString()));
        // A function a request added to the driver's module at run time does not exist here: it fails.
        assertEquals("compiled 1, skipped 1 (not Core, Base, the standard library or the driver), failed 1", report);
        assertFalse(Files.exists(planted), "a planted statement ran");
    }

    /** Runs precompile-safe.jl over {@code statements} (with {@code extraArgs} after its own); its report. */
    private static String evaluate(Path dir, List<String> statements, List<String> extraArgs) throws Exception {
        Path file = Files.write(dir.resolve("statements.jl"), statements);
        Path report = dir.resolve("report.txt");
        List<String> command = new ArrayList<>(List.of(julia().toString(), "--startup-file=no",
                DeployFiles.root().resolve("deploy/julia/precompile-safe.jl").toString(), file.toString(),
                report.toString()));
        command.addAll(extraArgs);
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(true, process.waitFor(120, TimeUnit.SECONDS));
        assertEquals(0, process.exitValue(), output);
        return Files.readString(report).strip();
    }

    private static Path julia() throws IOException {
        String configured = System.getenv("EXECFARM_JULIA_BINARY");
        Path julia = configured != null && !configured.isBlank() ? Path.of(configured)
                : Path.of("/opt/execfarm/julia-1.5.3/usr/bin/julia");
        Assumptions.assumeTrue(Files.isExecutable(julia), "no Julia here (CI installs one): " + julia);
        return julia;
    }
}
