package io.execfarm.contracts;

/** Redis keys that more than one service reads or writes. */
public final class RedisKeys {

    private RedisKeys() {
    }

    /** A finished request's {@link Result}, as encoded by {@link WireCodec}; written by the worker. */
    public static String result(String requestId) {
        return "execfarm:result:" + requestId;
    }

    /** Present when the request was cancelled; set by whoever learns of the cancel first. */
    public static String cancel(String requestId) {
        return "execfarm:cancel:" + requestId;
    }
}
