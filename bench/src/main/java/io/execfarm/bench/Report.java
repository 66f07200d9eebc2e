package io.execfarm.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The benchmark documents (docs/benchmarks.md, docs/benchmarks-components.md): each benchmark owns
 * one section between {@code <!-- bench:NAME -->} and {@code <!-- /bench:NAME -->}, and replaces
 * only that, so figures from different runs stay apart, each says which run it came from, and the
 * text around them is kept.
 */
final class Report {

    private static final String HEADER = """
            # Benchmarks

            Each section below comes from one run of the command it names, on the machine it names.
            The machine is small and shared, so compare the ratios within a section, not absolute
            figures across sections or runs.

            """;

    private Report() {
    }

    static void replaceSection(Path file, String name, String body) throws IOException {
        String begin = "<!-- bench:" + name + " -->";
        String end = "<!-- /bench:" + name + " -->";
        String section = begin + "\n" + body.strip() + "\n" + end + "\n";
        String text = Files.exists(file) ? Files.readString(file) : HEADER;
        int from = text.indexOf(begin);
        int to = text.indexOf(end);
        if (from >= 0 && to > from) {
            text = text.substring(0, from) + section + text.substring(to + end.length()).replaceFirst("^\n", "");
        } else {
            text = text.stripTrailing() + "\n\n" + section;
        }
        Files.writeString(file, text);
    }
}
