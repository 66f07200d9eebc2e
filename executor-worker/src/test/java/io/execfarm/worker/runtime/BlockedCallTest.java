package io.execfarm.worker.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

class BlockedCallTest {

    @Test
    @EnabledIfSystemProperty(named = "os.arch", matches = "amd64|x86_64")
    void aBlockedReadGivesItsDescriptorAndStackPointer() {
        // A Julia driver at rest, as the kernel showed it.
        BlockedCall call = BlockedCall.parse(
                "0 0x13 0x560d3d9bab00 0x10000 0x30 0x0 0x0 0x7f9d1c9ff930 0x7f9d491162ec\n").orElseThrow();
        assertTrue(call.isRead());
        assertEquals(0x13, call.readDescriptor());
        assertEquals(0x7f9d1c9ff930L, call.stackPointer());
        BlockedCall epoll = BlockedCall.parse(
                "281 0x3 0x7f9d1c5fc6a0 0x400 0xffffffff 0x0 0x8 0x7f9d1c5fc5a0 0x7f9d49126cae").orElseThrow();
        assertFalse(epoll.isRead());
    }

    @Test
    void aThreadRunningOrInNoCallIsBlockedInNothing() {
        assertEquals(Optional.empty(), BlockedCall.parse("running\n"));
        assertEquals(Optional.empty(), BlockedCall.parse("-1 0x7ffd0623db30 0x7f27d4d162ec\n"));
        assertEquals(Optional.empty(), BlockedCall.parse(""));
    }
}
