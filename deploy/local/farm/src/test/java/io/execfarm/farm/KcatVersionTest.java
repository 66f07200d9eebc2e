package io.execfarm.farm;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class KcatVersionTest {

    @Test
    void scramNeedsLibrdkafka261OrLater() {
        assertFalse(KcatVersion.atLeast2_6_1("Version 1.7.1 (JSON, librdkafka 2.0.2 builtin.features=sasl_scram)"));
        assertFalse(KcatVersion.atLeast2_6_1("librdkafka 2.6.0"));
        assertTrue(KcatVersion.atLeast2_6_1("librdkafka 2.6.1"));
        assertTrue(KcatVersion.atLeast2_6_1("librdkafka 2.10.0"));
        assertTrue(KcatVersion.atLeast2_6_1("librdkafka 3.0.0"));
        assertFalse(KcatVersion.atLeast2_6_1("no version here"));
    }
}
