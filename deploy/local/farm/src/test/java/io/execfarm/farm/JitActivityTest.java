package io.execfarm.farm;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JitActivityTest {

    private final Map<String, Double> compiledMillis = new HashMap<>(Map.of("dispatcher", 5_000.0, "worker-1", 7_000.0));

    private String metrics(String app) {
        Double compiled = compiledMillis.get(app);
        return compiled == null ? "" : """
                # TYPE jvm_compilation_time_ms_total counter
                jvm_compilation_time_ms_total{compiler="HotSpot 64-Bit Tiered Compilers"} %s
                """.formatted(compiled);
    }

    @Test
    void compilingInAnyApplicationIsNotQuietAndNoCompilingIs() {
        JitActivity jit = new JitActivity(List.of("dispatcher", "worker-1"), this::metrics);
        compiledMillis.merge("worker-1", 2_000.0, Double::sum);
        assertFalse(jit.getAsBoolean(), "two seconds compiled in the few milliseconds since the last look");
        assertTrue(jit.getAsBoolean(), "nothing compiled since the last look");
        compiledMillis.merge("dispatcher", 500.0, Double::sum);
        assertFalse(jit.getAsBoolean(), "the dispatcher counts as much as a worker");
    }

    @Test
    void anApplicationThatDoesNotAnswerAddsNothing() {
        JitActivity jit = new JitActivity(List.of("dispatcher", "worker-9"), this::metrics);
        assertTrue(jit.getAsBoolean());
    }
}
