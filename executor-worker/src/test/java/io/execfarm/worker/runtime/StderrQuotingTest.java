package io.execfarm.worker.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** What user code writes to a process's stderr reaches the worker's log as one quoted line, never as a line of its own. */
class StderrQuotingTest {

    @Test
    void controlCharactersAndBackslashesAreEscapedAndTheRestKept() {
        String forged = "boom\n2026-12-05 22:00:00,000 ERROR [io.execfarm.worker.Pools] (main) forged\r\u001b[2K\\ é✓";
        assertEquals("boom\\u000a2026-12-05 22:00:00,000 ERROR [io.execfarm.worker.Pools] (main) forged\\u000d\\u001b[2K\\u005c é✓",
                RuntimeProcess.escaped(forged));
    }
}
