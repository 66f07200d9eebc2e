package io.execfarm.bench;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code concurrency} clients sharing {@code requests} requests, each sending its next as soon as
 * its last one's result arrived: the load an interactive caller (an agent, a notebook) puts on the
 * farm.
 */
final class ClosedLoop {

    /** One request, start to result. */
    interface Call {
        Reply call() throws Exception;
    }

    /** Every reply, in completion order, and the wall time the whole run took. */
    record Run(List<Reply> replies, double seconds) {

        double perSecond() {
            return replies.size() / seconds;
        }
    }

    private ClosedLoop() {
    }

    static Run run(int concurrency, int requests, Call call, Progress.Counter counter) throws Exception {
        List<Reply> replies = Collections.synchronizedList(new ArrayList<>(requests));
        AtomicInteger left = new AtomicInteger(requests);
        ExecutorService clients = Executors.newFixedThreadPool(concurrency);
        long start = System.nanoTime();
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int c = 0; c < concurrency; c++) {
                done.add(clients.submit(() -> {
                    while (left.getAndDecrement() > 0) {
                        replies.add(call.call().requireOk());
                        counter.tick();
                    }
                    return null;
                }));
            }
            for (Future<?> client : done) {
                client.get(30, TimeUnit.MINUTES);
            }
        } finally {
            clients.shutdownNow();
        }
        return new Run(List.copyOf(replies), (System.nanoTime() - start) / 1e9);
    }
}
