package io.execfarm.localinfra;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Says which infrastructure a test run got: on stderr, and as a line in target/test-infra.txt. */
final class InfraRecord {

    private InfraRecord() {
    }

    static void announce(InfraChoice choice, TestInfra infra) {
        String suite = Path.of("").toAbsolutePath().getFileName() + " (" + callerTestClass() + ")";
        String line = suite + ": " + infra.description() + " [" + TestInfra.CHOICE + "=" + choice.name().toLowerCase(java.util.Locale.ROOT) + "]";
        System.err.println("execfarm tests: " + line);
        Path record = LocalInfra.repoRoot().resolve("target/test-infra.txt");
        try {
            Files.createDirectories(record.getParent());
            Files.writeString(record, line + System.lineSeparator(), StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            System.err.println("execfarm tests: could not record the infrastructure in " + record + ": " + e);
        }
    }

    /** The outermost class on the stack whose name ends in Test or IT: the suite that asked. */
    private static String callerTestClass() {
        return StackWalker.getInstance().walk(frames -> frames
                .map(StackWalker.StackFrame::getClassName)
                .filter(name -> name.endsWith("Test") || name.endsWith("IT"))
                .reduce((first, second) -> second)
                .map(name -> name.substring(name.lastIndexOf('.') + 1))
                .orElse("a Quarkus test"));
    }
}
