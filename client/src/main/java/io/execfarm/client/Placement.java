package io.execfarm.client;

import io.execfarm.contracts.WireNames;

/**
 * Where one request goes instead of where the client's route would send it: for tools that spread
 * requests over partitions themselves, or measure one topic against another.
 *
 * @param partition the partition, or null for the one the request's key maps to
 */
public record Placement(String topic, Integer partition) {

    public Placement {
        if (topic == null || !WireNames.TOPIC.matcher(topic).matches()) {
            throw new IllegalArgumentException("not a topic: " + topic);
        }
    }
}
