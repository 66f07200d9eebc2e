package io.execfarm.farm;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Sends a request over and over until the farm answers it as fast as it is going to: bursts of
 * requests, ten at a time, each followed by a probe of requests one at a time, until two probes
 * in a row come no more than a tenth below the best before them (or a cap is reached). A fresh JVM runs its
 * request path interpreted at first and compiles it over the first thousand or so requests; the
 * bursts get there in seconds, and this says how many requests it took rather than hiding them.
 */
final class SteadyState {

    /** One request; throws if it did not succeed. */
    interface Call {
        void run() throws Exception;
    }

    /**
     * What warming took.
     *
     * @param requests requests sent
     * @param firstP50 median of the first probe, ms
     * @param lastP50  median of the last probe, ms
     * @param steady   whether the medians settled before the cap
     */
    record Warmed(int requests, double firstP50, double lastP50, boolean steady) {

        String describe() {
            return String.format("%d requests; one at a time, p50 %.1f ms at first, %.1f ms at the end%s", requests,
                    firstP50, lastP50, steady ? "" : " (not steady yet: stopped at the cap)");
        }
    }

    private static final int BURST = 100;
    private static final int BURST_CONCURRENCY = 10;
    private static final int PROBE = 20;

    private SteadyState() {
    }

    static Warmed reach(Call call, int maxRequests, Runnable tick) throws Exception {
        return reach(call, maxRequests, tick, () -> true);
    }

    /**
     * {@link #reach(Call, int, Runnable)}, and steady only once {@code quiet} says so too, asked
     * after each probe: a latency can stay flat for a while with the JIT still compiling the path.
     */
    static Warmed reach(Call call, int maxRequests, Runnable tick, BooleanSupplier quiet) throws Exception {
        ExecutorService clients = Executors.newFixedThreadPool(BURST_CONCURRENCY);
        try {
            double first = probe(call);
            double best = first;
            double last = first;
            int flat = 0;
            int sent = PROBE;
            while (sent + BURST + PROBE <= maxRequests) {
                burst(call, clients);
                last = probe(call);
                sent += BURST + PROBE;
                tick.run();
                flat = last >= best * 0.9 ? flat + 1 : 0;
                best = Math.min(best, last);
                if (quiet.getAsBoolean() && flat >= 2) {
                    return new Warmed(sent, first, last, true);
                }
            }
            return new Warmed(sent, first, last, false);
        } finally {
            clients.shutdownNow();
        }
    }

    private static void burst(Call call, ExecutorService clients) throws Exception {
        List<Future<?>> sent = new ArrayList<>();
        for (int c = 0; c < BURST_CONCURRENCY; c++) {
            sent.add(clients.submit(() -> {
                for (int i = 0; i < BURST / BURST_CONCURRENCY; i++) {
                    call.run();
                }
                return null;
            }));
        }
        for (Future<?> client : sent) {
            client.get(5, TimeUnit.MINUTES);
        }
    }

    /** Median of a few requests one at a time, in ms: what an interactive caller sees. */
    private static double probe(Call call) throws Exception {
        long[] took = new long[PROBE];
        for (int i = 0; i < PROBE; i++) {
            long start = System.nanoTime();
            call.run();
            took[i] = System.nanoTime() - start;
        }
        Arrays.sort(took);
        return took[PROBE / 2] / 1e6;
    }
}
