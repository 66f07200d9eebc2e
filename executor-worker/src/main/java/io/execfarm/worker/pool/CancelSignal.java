package io.execfarm.worker.pool;

/**
 * Cancellation of one request, whenever it arrives: before the request has a process (it then
 * never runs) or while it runs (its process is stopped).
 */
public final class CancelSignal {

    private boolean cancelled;
    private Runnable onCancel;

    public synchronized void cancel() {
        if (!cancelled) {
            cancelled = true;
            if (onCancel != null) {
                onCancel.run();
            }
        }
    }

    public synchronized boolean isCancelled() {
        return cancelled;
    }

    /** Arranges for {@code action} to run on cancel; false (and nothing arranged) if already cancelled. */
    public synchronized boolean bind(Runnable action) {
        if (cancelled) {
            return false;
        }
        onCancel = action;
        return true;
    }

    public synchronized void unbind() {
        onCancel = null;
    }
}
