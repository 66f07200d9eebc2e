package io.execfarm.localinfra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class InfraChoiceTest {

    @Test
    void unsetOrEmptyMeansAuto() {
        assertEquals(InfraChoice.AUTO, InfraChoice.parse(null));
        assertEquals(InfraChoice.AUTO, InfraChoice.parse(" "));
        assertEquals(InfraChoice.AUTO, InfraChoice.parse("auto"));
    }

    @Test
    void choicesAreReadWhateverTheirCaseAndSpaces() {
        assertEquals(InfraChoice.CONTAINERS, InfraChoice.parse(" Containers "));
        assertEquals(InfraChoice.LOCAL, InfraChoice.parse("LOCAL"));
    }

    @Test
    void anythingElseIsRefusedWithTheChoicesNamed() {
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class, () -> InfraChoice.parse("docker"));
        assertTrue(refused.getMessage().contains("EXECFARM_TEST_INFRA=docker: expected auto, containers or local"),
                refused.getMessage());
    }
}
