package io.execfarm.dispatcher.messaging;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletionException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.junit.jupiter.api.Test;

/** Which publish failures leave a request possibly queued (the execution is then kept on record). */
class FarmPublisherTest {

    @Test
    void aTimeOutMayHaveReachedKafkaARefusalDidNot() {
        assertTrue(FarmPublisher.mayHaveReachedKafka(new TimeoutException("Expiring 1 record(s)")));
        assertTrue(FarmPublisher.mayHaveReachedKafka(new CompletionException(new TimeoutException("late"))));
        assertFalse(FarmPublisher.mayHaveReachedKafka(new RecordTooLargeException("too large")));
        assertFalse(FarmPublisher.mayHaveReachedKafka(new TopicAuthorizationException("denied")));
    }
}
