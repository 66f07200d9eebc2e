package io.execfarm.worker.runtime;

import io.execfarm.worker.sandbox.Confinement;
import io.execfarm.worker.sandbox.RuntimeAccess;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The runtimes execfarm ships drivers for, with their defaults; configuration overrides any part. */
public final class KnownRuntimes {

    public static final String JULIA = "julia";
    public static final String PYTHON = "python";
    /** Every runtime execfarm ships a driver for. */
    public static final List<String> NAMES = List.of(JULIA, PYTHON);

    private static final long GIB = 1024L * 1024 * 1024;

    private KnownRuntimes() {
    }

    public static Optional<RuntimeDefinition> byName(String name) {
        return switch (name) {
            case JULIA -> Optional.of(julia());
            case PYTHON -> Optional.of(python());
            default -> Optional.empty();
        };
    }

    /**
     * Julia 1.5.3 (Debian's, what can be had here) and >= 1.10. Flags as a production farm wants
     * them: no start-up file or history, no colour codes in output, two threads (the second is the
     * driver's output forwarder, so user code has one; the farm scales by processes, and so BLAS
     * runs one thread per process too). A thread with nothing to do sleeps at once instead of
     * spinning (Julia 1.5 spun for 4 ms after every request, measured from its control group, which
     * is both CPU wasted per request and CPU used while idle, a sign of code left running). Julia reserves
     * a large address space up front, hence the high RLIMIT_AS; what counts is the memory limit
     * (4 GiB). Where Julia takes a heap size hint (1.9 and later) its collector works to keep each
     * process's heap under 2 GiB, well within that limit. The warm-up compiles the paths every
     * request takes: parsing, evaluation in a fresh module, display of common values, error display.
     */
    public static RuntimeDefinition julia() {
        return new RuntimeDefinition(JULIA, "julia",
                List.of("--startup-file=no", "--history-file=no", "--color=no", "--threads=2", "-O2"),
                "drivers/julia/driver.jl",
                """
                x = [1.0, 2.0, 3.0]
                println("warm ", sum(x) / length(x), " ", Dict(:a => 1), " ", (1, "two"))
                s = sprint(show, MIME"text/plain"(), x)
                try error("warm") catch e; sprint(showerror, e) end
                x
                """,
                new Confinement(16 * GIB, 4 * GIB, RuntimeAccess.NONE), 2 * GIB,
                Map.of("OPENBLAS_NUM_THREADS", "1", "JULIA_THREAD_SLEEP_THRESHOLD", "0"),
                Duration.ofSeconds(180));
    }

    /** Code that loads {@code packages} into a process of {@code runtime}, before its warm-up. */
    public static String preload(String runtime, List<String> packages) {
        if (packages.isEmpty()) {
            return "";
        }
        return switch (runtime) {
            case JULIA -> "using " + String.join(", ", packages) + "\n";
            case PYTHON -> "import " + String.join(", ", packages) + "\n";
            default -> throw new IllegalArgumentException("no preload syntax for runtime " + runtime);
        };
    }

    /** CPython >= 3.10, standard library only. -I ignores PYTHON* variables and the user site; -B writes no .pyc. */
    public static RuntimeDefinition python() {
        return new RuntimeDefinition(PYTHON, "python3", List.of("-u", "-I", "-B"), "drivers/python/driver.py",
                "import json, re, collections, math, subprocess\n[x * x for x in range(10)]",
                new Confinement(4 * GIB, 2 * GIB, RuntimeAccess.NONE), 0, Map.of(), Duration.ofSeconds(30));
    }

    /**
     * Flags that depend on the interpreter's version, added after the definition's own: Julia's
     * {@code --heap-size-hint} from 1.9 on (1.5 rejects the flag), unless the flags name one already.
     */
    public static List<String> versionFlags(RuntimeDefinition definition, String version) {
        boolean hinted = definition.flags().stream().anyMatch(flag -> flag.startsWith("--heap-size-hint"));
        if (!definition.name().equals(JULIA) || definition.heapSizeHintBytes() <= 0 || hinted
                || !atLeast(version, 1, 9)) {
            return List.of();
        }
        return List.of("--heap-size-hint=" + definition.heapSizeHintBytes());
    }

    /** Whether a version string such as {@code 1.10.4} or {@code 1.12.0-DEV.5} is at least major.minor. */
    static boolean atLeast(String version, int major, int minor) {
        String[] parts = version.split("[.-]");
        try {
            int actualMajor = Integer.parseInt(parts[0]);
            int actualMinor = parts.length > 1 ? Integer.parseInt(parts[1]) : 0;
            return actualMajor > major || actualMajor == major && actualMinor >= minor;
        } catch (NumberFormatException e) {
            return false;
        }
    }
}
