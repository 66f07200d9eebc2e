package io.execfarm.worker.messaging;

import io.execfarm.contracts.Cancel;
import io.execfarm.contracts.ControlMessage;
import io.execfarm.contracts.MalformedMessageException;
import io.execfarm.contracts.WireCodec;
import io.execfarm.worker.cancel.CancelRegistry;
import io.execfarm.worker.delivery.RequestLedger;
import io.execfarm.worker.delivery.Retrying;
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

    public ControlConsumer(WireCodec codec, RequestLedger ledger, CancelRegistry cancels) {
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
            Retrying.run("marking " + cancel.requestId() + " cancelled", () -> ledger.markCancelled(cancel.requestId()));
            cancels.cancel(cancel.requestId());
        }
    }
}
