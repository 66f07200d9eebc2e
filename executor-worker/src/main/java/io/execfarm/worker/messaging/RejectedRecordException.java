package io.execfarm.worker.messaging;

/** Why a record went to the dead-letter topic; its message becomes the record's reason header. */
public final class RejectedRecordException extends RuntimeException {

    public RejectedRecordException(String reason) {
        super(reason, null, false, false);
    }
}
