package io.execfarm.dispatcher.events;

/** An event of an execution and its index in the execution's event list: its SSE id. */
public record IndexedEvent(long index, String type, String json) {
}
