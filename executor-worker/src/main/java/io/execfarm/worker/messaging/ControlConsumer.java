package io.execfarm.worker.messaging;

import io.execfarm.contracts.Cancel;
import io.execfarm.contracts.ControlMessage;
import io.execfarm.contracts.MalformedMessageException;
import io.execfarm.contracts.WireCodec;
import io.execfarm.worker.cancel.CancelRegistry;
import io.execfarm.worker.delivery.RequestLedger;
import io.execfarm.worker.delivery.Retries;
import io.smallrye.common.annotation.Blocking;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;
import org.eclipse.microprofile.reactive.messaging.Incoming;

/**
 * Reads {@code execfarm.control} in a consumer group of this worker's own, so every worker sees
 * every cancel. The cancel is marked in Redis (the request may not have reached any worker yet, and
 * whichever gets it checks the mark before running it) and stops the request if it runs here.
 */
@ApplicationScoped
public class ControlConsumer {

    private static final Logger LOG = Logger.getLogger(ControlConsumer.class);

    private final WireCodec codec;
    private final RequestLedger ledger;
    private final CancelRegistry cancels;
    private final Retries retries;

    public ControlConsumer(WireCodec codec, RequestLedger ledger, CancelRegistry cancels, Retries retries) {
        this.retries = retries;
        this.codec = codec;
        this.ledger = ledger;
        this.cancels = cancels;
    }

    @Incoming("control")
    @Blocking
    public void onControl(byte[] payload) {
        ControlMessage message;
        try {
            message = codec.decodeControl(payload);
        } catch (MalformedMessageException e) {
            LOG.warnf("ignoring a malformed control message: %s", e.getMessage());
            return;
        }
        if (message instanceof Cancel cancel) {
            // Marked before it is signalled: a request registers before it reads the mark, so it sees one or the other.
            try {
                retries.run("marking " + cancel.requestId() + " cancelled", () -> ledger.markCancelled(cancel.requestId()));
            } catch (Retries.GaveUp e) {
                LOG.errorf("the cancel of %s reaches only requests running here now: %s", cancel.requestId(), e.getMessage());
            }
            cancels.cancel(cancel.requestId());
        }
    }
}
