package io.execfarm.worker.sandbox;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.TimeUnit;

/**
 * The seccomp filter bubblewrap loads into every runtime process (the list and the reasons are in
 * {@code sandbox/syscall-filter.py}). It is compiled once per sandbox by libseccomp's own Python
 * binding, so the BPF matches this machine's architecture and kernel, rather than by a hand-made
 * BPF assembler here.
 */
final class SyscallFilter {

    private static final String SCRIPT = "sandbox/syscall-filter.py";

    private SyscallFilter() {
    }

    /**
     * Writes the filter into {@code dir}, readable by the sandbox's uids.
     *
     * @param path the sandbox's PATH, where the system's python3 (with python3-seccomp) is found
     * @throws IOException with the reason when it cannot be built here
     */
    static Path write(Path dir, String path) throws IOException {
        Path python = SearchPath.find("python3", path).orElseThrow(() -> new IOException(
                "no python3 on " + path + " to build it (Debian: apt-get install python3-seccomp)"));
        Path script = dir.resolve("syscall-filter.py");
        try (InputStream in = SyscallFilter.class.getClassLoader().getResourceAsStream(SCRIPT)) {
            if (in == null) {
                throw new IOException("no resource " + SCRIPT);
            }
            Files.copy(in, script, StandardCopyOption.REPLACE_EXISTING);
        }
        Path filter = dir.resolve("syscall-filter.bpf");
        Process process = new ProcessBuilder(python.toString(), script.toString(), filter.toString())
                .redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS) || process.exitValue() != 0 || Files.size(filter) == 0) {
                process.destroyForcibly();
                String last = output.lines().reduce((first, second) -> second).orElse("no output");
                throw new IOException(python + " could not build it (Debian: apt-get install python3-seccomp): " + last);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while building it", e);
        } finally {
            Files.deleteIfExists(script);
        }
        return filter;
    }
}
