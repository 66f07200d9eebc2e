package io.execfarm.worker.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class KnownRuntimesVersionFlagsTest {

    private static final RuntimeDefinition JULIA = KnownRuntimes.julia();

    @Test
    void juliaGetsItsHeapSizeHintFromOneNineOn() {
        String hint = "--heap-size-hint=" + JULIA.heapSizeHintBytes();
        assertEquals(List.of(), KnownRuntimes.versionFlags(JULIA, "1.5.3"));
        assertEquals(List.of(), KnownRuntimes.versionFlags(JULIA, "1.8.5"));
        assertEquals(List.of(hint), KnownRuntimes.versionFlags(JULIA, "1.9.0"));
        assertEquals(List.of(hint), KnownRuntimes.versionFlags(JULIA, "1.10.4"));
        assertEquals(List.of(hint), KnownRuntimes.versionFlags(JULIA, "1.12.0-DEV.5"));
        assertEquals(List.of(hint), KnownRuntimes.versionFlags(JULIA, "2.0.0"));
    }

    @Test
    void noHintWhenNoneIsWantedOrTheFlagsNameOneOrTheVersionIsUnreadable() {
        assertEquals(List.of(), KnownRuntimes.versionFlags(JULIA.withExtraFlags(List.of("--heap-size-hint=1G")), "1.10.4"));
        RuntimeDefinition unhinted = new RuntimeDefinition(JULIA.name(), JULIA.binary(), JULIA.flags(),
                JULIA.driverResource(), JULIA.warmUp(), JULIA.confinement(), 0, JULIA.env(), JULIA.startTimeout());
        assertEquals(List.of(), KnownRuntimes.versionFlags(unhinted, "1.10.4"));
        assertEquals(List.of(), KnownRuntimes.versionFlags(JULIA, "unknown"));
        assertEquals(List.of(), KnownRuntimes.versionFlags(KnownRuntimes.python(), "3.11.2"));
    }
}
