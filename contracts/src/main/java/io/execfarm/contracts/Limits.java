package io.execfarm.contracts;

/** Per-request limits a client may ask for; the worker may lower them further. */
public record Limits(long maxOutputBytes) {

    public static final long DEFAULT_MAX_OUTPUT_BYTES = 1L << 20;
    public static final long MAX_OUTPUT_BYTES_CEILING = 64L << 20;
    public static final Limits DEFAULT = new Limits(DEFAULT_MAX_OUTPUT_BYTES);

    public Limits {
        if (maxOutputBytes < 0 || maxOutputBytes > MAX_OUTPUT_BYTES_CEILING) {
            throw new IllegalArgumentException("maxOutputBytes out of range: " + maxOutputBytes);
        }
    }
}
