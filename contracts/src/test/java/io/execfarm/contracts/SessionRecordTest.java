package io.execfarm.contracts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SessionRecordTest {

    private final SessionRecord record = new SessionRecord("acme", "python", Instant.ofEpochMilli(1_700_000_000_123L),
            Duration.ofMinutes(30), Duration.ofHours(24), 4096);

    @Test
    void aRecordSurvivesItsHash() {
        Map<String, String> fields = record.fields();
        assertEquals("0", fields.get(SessionRecord.Field.SNIPPETS));
        assertEquals("1700000000123", fields.get(SessionRecord.Field.CREATED_AT));
        assertEquals(record, SessionRecord.fromFields(fields));
        assertEquals(Instant.ofEpochMilli(1_700_000_000_123L).plus(Duration.ofHours(24)), record.endOfLife());
    }

    @Test
    void aMissingOrDamagedHashIsNoSession() {
        assertNull(SessionRecord.fromFields(null));
        assertNull(SessionRecord.fromFields(Map.of()));
        Map<String, String> damaged = new HashMap<>(record.fields());
        damaged.put(SessionRecord.Field.IDLE_TIMEOUT_MS, "soon");
        assertNull(SessionRecord.fromFields(damaged));
        damaged.put(SessionRecord.Field.IDLE_TIMEOUT_MS, "0");
        assertNull(SessionRecord.fromFields(damaged), "a session that never lives is not one");
    }

    @Test
    void limitsMustMakeSense() {
        assertThrows(IllegalArgumentException.class, () -> new SessionRecord("acme", "python", Instant.EPOCH,
                Duration.ZERO, Duration.ofHours(1), 10));
        assertThrows(IllegalArgumentException.class, () -> new SessionRecord("acme", "python", Instant.EPOCH,
                Duration.ofMinutes(1), Duration.ofHours(1), -1));
    }
}
