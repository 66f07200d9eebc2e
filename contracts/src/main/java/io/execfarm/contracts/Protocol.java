package io.execfarm.contracts;

/** Protocol constants shared by every message. */
public final class Protocol {

    /** The only wire version this build speaks. */
    public static final int VERSION = 1;

    /**
     * Kafka header naming why a record went to the dead-letter topic (written by SmallRye's
     * dead-letter strategy, and by the worker for a share group's records).
     */
    public static final String DLQ_REASON_HEADER = "dead-letter-reason";

    private Protocol() {
    }
}
