package io.execfarm.contracts;

import com.fasterxml.jackson.annotation.JsonProperty;

/** A message on {@code execfarm.control}, read by every worker. */
public sealed interface ControlMessage permits Cancel {

    @JsonProperty("type")
    String type();

    @JsonProperty("v")
    default int v() {
        return Protocol.VERSION;
    }
}
