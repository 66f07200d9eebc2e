package io.execfarm.farm;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * An OTLP/HTTP trace endpoint on a free loopback port, for a farm whose applications export spans
 * where no collector runs (the tracing tests, and {@code ./farm bench} measuring what exporting
 * costs). Each export's body, an {@code ExportTraceServiceRequest} in protobuf, goes to
 * {@code traces}; the answer is the empty success the protocol defines.
 */
public final class OtlpReceiver implements AutoCloseable {

    private final HttpServer server;
    private final ExecutorService threads = Executors.newFixedThreadPool(2);
    private final AtomicLong exports = new AtomicLong();

    private OtlpReceiver(Consumer<byte[]> traces) throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/v1/traces", exchange -> {
            try (InputStream body = exchange.getRequestBody()) {
                traces.accept(body.readAllBytes());
                exports.incrementAndGet();
                exchange.getResponseHeaders().set("Content-Type", "application/x-protobuf");
                exchange.sendResponseHeaders(200, -1);
            } catch (RuntimeException e) {
                exchange.sendResponseHeaders(400, -1);
            } finally {
                exchange.close();
            }
        });
        server.setExecutor(threads);
        server.start();
    }

    public static OtlpReceiver start(Consumer<byte[]> traces) throws IOException {
        return new OtlpReceiver(traces);
    }

    /** Export requests answered so far. */
    public long exports() {
        return exports.get();
    }

    /**
     * The environment that switches an application's tracing on and points it here: the Quarkus
     * OpenTelemetry settings, OTLP over HTTP, spans sent every 200 ms rather than every 5 s.
     */
    public Map<String, String> exportSettings() {
        return Map.of(
                "QUARKUS_OTEL_SDK_DISABLED", "false",
                "QUARKUS_OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:" + server.getAddress().getPort(),
                "QUARKUS_OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf",
                "QUARKUS_OTEL_BSP_SCHEDULE_DELAY", "200ms");
    }

    @Override
    public void close() {
        server.stop(0);
        threads.shutdownNow();
    }
}
