package io.execfarm.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.execfarm.contracts.ExecutionEvent;
import io.execfarm.contracts.Output;
import io.execfarm.contracts.Result;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Flow;
import org.junit.jupiter.api.Test;

/** The publisher's contract on the caller's thread: demand, buffering before subscription, the end, errors. */
class SubmissionTest {

    private final Backlog backlog = new Backlog(100);
    private final List<String> cancelled = new ArrayList<>();
    private final Submission submission = new Submission("r", Runnable::run, backlog, cancelled::add);
    private final Recorder recorder = new Recorder();

    @Test
    void eventsWaitForDemandAndCountInTheBacklogUntilTaken() {
        submission.sink().next(output(0));
        submission.sink().next(output(1));
        assertEquals(2, backlog.held(), "held before anyone subscribed");
        submission.subscribe(recorder);
        assertEquals(List.of(), recorder.events);
        recorder.subscription.request(1);
        assertEquals(List.of(output(0)), recorder.events);
        assertEquals(1, backlog.held());
        submission.sink().end(result(), 0);
        recorder.subscription.request(5);
        assertEquals(List.of(output(0), output(1), result()), recorder.events);
        assertTrue(recorder.completed);
        assertEquals(0, backlog.held());
    }

    @Test
    void completionWaitsUntilTheResultIsTaken() {
        submission.subscribe(recorder);
        submission.sink().end(result(), 0);
        assertTrue(!recorder.completed, "the result is not taken yet");
        recorder.subscription.request(1);
        assertEquals(List.of(result()), recorder.events);
        assertTrue(recorder.completed);
    }

    @Test
    void aFailureEndsTheStreamAtOnceAndReleasesWhatWasHeld() {
        submission.subscribe(recorder);
        submission.sink().next(output(0));
        submission.sink().fail(new ExecutionTimeoutException("r", java.time.Duration.ofSeconds(1)));
        assertTrue(recorder.error instanceof ExecutionTimeoutException, String.valueOf(recorder.error));
        assertEquals(0, backlog.held());
        submission.sink().next(output(1));
        assertEquals(0, backlog.held(), "nothing is held after the end");
    }

    @Test
    void cancellingTheSubscriptionDropsEventsAndLeavesTheExecution() {
        submission.subscribe(recorder);
        submission.sink().next(output(0));
        recorder.subscription.cancel();
        submission.sink().next(output(1));
        assertEquals(0, backlog.held());
        assertEquals(List.of(), cancelled, "the subscription's cancel is not the execution's");
        submission.cancel();
        assertEquals(List.of("r"), cancelled);
    }

    @Test
    void aSecondSubscriberAndANonPositiveRequestAreErrors() {
        submission.subscribe(recorder);
        Recorder second = new Recorder();
        submission.subscribe(second);
        assertTrue(second.error instanceof IllegalStateException);
        recorder.subscription.request(0);
        assertTrue(recorder.error instanceof IllegalArgumentException, String.valueOf(recorder.error));
    }

    private static Output output(long seq) {
        return new Output("r", seq, Output.Stream.STDOUT, "line " + seq);
    }

    private static Result result() {
        return new Result("r", Result.Status.OK, "1", null, false, Result.Timings.NONE, "w", 1);
    }

    private static final class Recorder implements Flow.Subscriber<ExecutionEvent> {
        final List<ExecutionEvent> events = new ArrayList<>();
        Flow.Subscription subscription;
        Throwable error;
        boolean completed;

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
        }

        @Override
        public void onNext(ExecutionEvent event) {
            events.add(event);
        }

        @Override
        public void onError(Throwable failure) {
            error = failure;
        }

        @Override
        public void onComplete() {
            completed = true;
        }
    }
}
