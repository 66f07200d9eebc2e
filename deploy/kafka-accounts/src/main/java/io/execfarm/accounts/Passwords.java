package io.execfarm.accounts;

import java.security.SecureRandom;
import java.util.HexFormat;

/** Passwords generated per start, as deploy/local/infra makes them: 16 random bytes in hex. */
public final class Passwords {

    private static final SecureRandom RANDOM = new SecureRandom();

    private Passwords() {
    }

    public static String generate() {
        byte[] bytes = new byte[16];
        RANDOM.nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }
}
