package io.execfarm.farm;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The Julia a local farm runs: a {@code julia} the user already has on PATH wins; otherwise the one
 * {@code deploy/julia/install-julia} installs (Debian's Julia 1.5.3 in a private prefix), installed
 * on first use.
 */
final class JuliaLocator {

    /**
     * @param binary the interpreter's path
     * @param origin where it came from, for people reading {@code ./farm status}
     */
    record Julia(Path binary, String origin) {
    }

    private JuliaLocator() {
    }

    static Optional<Julia> locate(Path repoRoot, PrintStream progress) {
        Optional<Path> onPath = Executables.find("julia");
        if (onPath.isPresent()) {
            return Optional.of(new Julia(onPath.get(), "julia on PATH"));
        }
        Path installer = repoRoot.resolve("deploy/julia/install-julia");
        progress.println("farm: no julia on PATH: using Debian's Julia 1.5.3 from " + repoRoot.relativize(installer)
                + " (installs it on first use, about 10 s)");
        try {
            Process process = new ProcessBuilder(installer.toString())
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            String printed = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (process.waitFor() == 0 && !printed.isEmpty() && Files.isExecutable(Path.of(printed))) {
                return Optional.of(new Julia(Path.of(printed), "installed by deploy/julia/install-julia"));
            }
            progress.println("farm: the Julia installer failed (exit code " + process.exitValue() + "); see above");
        } catch (IOException e) {
            progress.println("farm: cannot run " + installer + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return Optional.empty();
    }
}
