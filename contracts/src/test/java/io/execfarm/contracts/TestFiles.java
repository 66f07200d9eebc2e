package io.execfarm.contracts;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

final class TestFiles {

    private TestFiles() {
    }

    static byte[] read(String path) {
        try (InputStream in = TestFiles.class.getResourceAsStream("/" + path)) {
            if (in == null) {
                throw new IllegalArgumentException("no test resource " + path);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
