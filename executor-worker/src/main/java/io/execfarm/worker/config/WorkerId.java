package io.execfarm.worker.config;

/** This worker's name in events, logs and metrics. */
public record WorkerId(String value) {

    @Override
    public String toString() {
        return value;
    }
}
