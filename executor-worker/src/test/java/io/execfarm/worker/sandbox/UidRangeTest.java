package io.execfarm.worker.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Uids per slot, per runtime and per worker on one host: no two holders share one. */
class UidRangeTest {

    @TempDir
    Path locks;

    private static Map<String, Integer> slots(int julia, int python) {
        Map<String, Integer> slots = new LinkedHashMap<>();
        slots.put("julia", julia);
        slots.put("python", python);
        return slots;
    }

    @Test
    void everySlotOfEveryRuntimeHasAUidOfItsOwn() throws Exception {
        try (UidRange range = UidRange.claim(locks, 61000, slots(2, 3))) {
            Set<Integer> uids = new HashSet<>();
            for (int slot = 0; slot < 2; slot++) {
                assertTrue(uids.add(range.uid("julia", slot)));
            }
            for (int slot = 0; slot < 3; slot++) {
                assertTrue(uids.add(range.uid("python", slot)), "python slot " + slot + " shares a uid with another slot");
            }
            assertEquals(Set.of(61000, 61001, 61002, 61003, 61004), uids);
            assertThrows(IllegalArgumentException.class, () -> range.uid("python", 3), "a slot past the pool has none");
        }
    }

    @Test
    void twoWorkersOnOneHostGetRangesThatDoNotOverlapAndAReleasedRangeIsTakenAgain() throws Exception {
        UidRange first = UidRange.claim(locks, 61000, slots(2, 3));
        Set<Integer> firstUids = uids(first, 2, 3);
        try (UidRange second = UidRange.claim(locks, 61000, slots(1, 1))) {
            Set<Integer> secondUids = uids(second, 1, 1);
            secondUids.retainAll(firstUids);
            assertEquals(Set.of(), secondUids, "the second worker's uids overlap the first's");
        }
        first.close();
        try (UidRange again = UidRange.claim(locks, 61000, slots(2, 3))) {
            assertEquals(61000, again.first(), "the first worker's uids are free once it stopped");
        }
    }

    private static Set<Integer> uids(UidRange range, int julia, int python) {
        Set<Integer> uids = new HashSet<>();
        for (int slot = 0; slot < julia; slot++) {
            uids.add(range.uid("julia", slot));
        }
        for (int slot = 0; slot < python; slot++) {
            uids.add(range.uid("python", slot));
        }
        return uids;
    }
}
