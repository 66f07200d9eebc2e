package io.execfarm.worker.config;

import io.execfarm.contracts.WireCodec;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.net.InetAddress;
import java.net.UnknownHostException;

/** Shared values built once from configuration. */
@ApplicationScoped
public class WorkerBeans {

    @Produces
    @Singleton
    WireCodec codec(WorkerConfig config) {
        return new WireCodec(config.maxCodeBytes());
    }

    @Produces
    @Singleton
    WorkerId workerId(WorkerConfig config) {
        return new WorkerId(config.id().orElseGet(() -> hostName() + ":" + ProcessHandle.current().pid()));
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "worker";
        }
    }
}
