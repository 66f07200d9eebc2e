package io.execfarm.localinfra;

import java.util.Locale;

/** Which infrastructure {@code EXECFARM_TEST_INFRA} asks the tests for (see {@link TestInfra}). */
enum InfraChoice {
    AUTO, CONTAINERS, LOCAL;

    static InfraChoice parse(String value) {
        String choice = value == null ? "" : value.strip().toLowerCase(Locale.ROOT);
        return switch (choice) {
            case "", "auto" -> AUTO;
            case "containers" -> CONTAINERS;
            case "local" -> LOCAL;
            default -> throw new IllegalArgumentException(TestInfra.CHOICE + "=" + value
                    + ": expected auto, containers or local");
        };
    }
}
