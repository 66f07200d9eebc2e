package io.execfarm.client;

import io.execfarm.contracts.ExecutionEvent;
import io.execfarm.contracts.Result;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * One execution's events as a {@link Flow.Publisher}: in order, without duplicates, ending with its
 * {@link Result} and then {@code onComplete}, or {@code onError} when no result will come
 * ({@link ExecutionTimeoutException}, a send that failed, the client closed). One subscriber;
 * events that arrive before it subscribes, or before it asks for them, wait in the client's
 * {@link Backlog}, which bounds them all. Signals run on the client's delivery executor, one at a
 * time. Cancelling the subscription stops the events, not the execution: {@link #cancel()} does that.
 */
public final class Submission implements Flow.Publisher<ExecutionEvent> {

    private final String requestId;
    private final Executor delivery;
    private final Backlog backlog;
    private final Consumer<String> cancelExecution;
    private final Sink sink = new Sink();
    private final Queue<ExecutionEvent> queue = new ConcurrentLinkedQueue<>();
    private final AtomicLong requested = new AtomicLong();
    /** Drains asked for and not yet run; whoever raises it from zero runs them (Reactive Streams' "wip" count). */
    private final AtomicInteger wip = new AtomicInteger();
    private volatile Flow.Subscriber<? super ExecutionEvent> subscriber;
    private volatile boolean ended;
    private volatile Throwable failure;
    private volatile boolean cancelled;
    private boolean signalledEnd;

    Submission(String requestId, Executor delivery, Backlog backlog, Consumer<String> cancelExecution) {
        this.requestId = requestId;
        this.delivery = delivery;
        this.backlog = backlog;
        this.cancelExecution = cancelExecution;
    }

    public String requestId() {
        return requestId;
    }

    /** Asks the farm to stop the execution: before it starts it never runs; while it runs it ends {@code cancelled}. */
    public void cancel() {
        cancelExecution.accept(requestId);
    }

    @Override
    public void subscribe(Flow.Subscriber<? super ExecutionEvent> newSubscriber) {
        synchronized (this) {
            if (subscriber != null) {
                newSubscriber.onSubscribe(new Flow.Subscription() {
                    @Override
                    public void request(long n) {
                    }

                    @Override
                    public void cancel() {
                    }
                });
                newSubscriber.onError(new IllegalStateException("an execution's events have one subscriber"));
                return;
            }
            subscriber = newSubscriber;
        }
        newSubscriber.onSubscribe(new Flow.Subscription() {
            @Override
            public void request(long n) {
                if (n <= 0) {
                    failure = new IllegalArgumentException("Reactive Streams §3.9: request " + n);
                    ended = true;
                } else {
                    requested.accumulateAndGet(n, (now, more) -> now + more < 0 ? Long.MAX_VALUE : now + more);
                }
                drain();
            }

            @Override
            public void cancel() {
                cancelled = true;
                drain();
            }
        });
        drain();
    }

    ExecutionSink sink() {
        return sink;
    }

    private void drain() {
        if (wip.getAndIncrement() == 0) {
            delivery.execute(this::drainLoop);
        }
    }

    private void drainLoop() {
        int missed = 1;
        do {
            Flow.Subscriber<? super ExecutionEvent> s = subscriber;
            if (cancelled || signalledEnd) {
                discard();
            } else if (s != null) {
                emit(s);
            }
            missed = wip.addAndGet(-missed);
        } while (missed != 0);
    }

    private void emit(Flow.Subscriber<? super ExecutionEvent> s) {
        if (failure != null) {
            signalledEnd = true;
            discard();
            s.onError(failure);
            return;
        }
        long sent = 0;
        long wanted = requested.get();
        while (sent < wanted && !cancelled) {
            ExecutionEvent event = queue.poll();
            if (event == null) {
                break;
            }
            backlog.taken(1);
            s.onNext(event);
            sent++;
        }
        if (sent > 0 && wanted != Long.MAX_VALUE) {
            requested.addAndGet(-sent);
        }
        if (ended && queue.isEmpty() && !cancelled) {
            signalledEnd = true;
            s.onComplete();
        }
    }

    private void discard() {
        for (ExecutionEvent event = queue.poll(); event != null; event = queue.poll()) {
            backlog.taken(1);
        }
    }

    /** The reply consumer's side: events go into the queue and count in the backlog until taken. */
    private final class Sink implements ExecutionSink {

        @Override
        public void next(ExecutionEvent event) {
            if (!ended && !cancelled) {
                backlog.add(1);
                queue.add(event);
                drain();
            }
        }

        @Override
        public void end(Result result, long answeredNanos) {
            next(result);
            ended = true;
            drain();
        }

        @Override
        public void fail(Throwable cause) {
            if (!ended) {
                failure = cause;
                ended = true;
                drain();
            }
        }
    }
}
