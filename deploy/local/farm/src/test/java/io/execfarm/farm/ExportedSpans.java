package io.execfarm.farm;

import com.google.protobuf.InvalidProtocolBufferException;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/** The spans a farm exported to an {@link OtlpReceiver}, decoded and kept in memory, for assertions on their tree. */
final class ExportedSpans implements Consumer<byte[]> {

    /** One span as exported, with what the assertions look at. */
    record ExportedSpan(String service, String traceId, String spanId, String parentId, String name, String kind,
            Map<String, String> attributes, List<String> events, List<String> linkedTraces) {

        @Override
        public String toString() {
            return service + " " + kind + " '" + name + "' " + spanId + " <- " + parentId + " " + attributes
                    + (events.isEmpty() ? "" : " events " + events) + (linkedTraces.isEmpty() ? "" : " links " + linkedTraces);
        }
    }

    private final List<ExportedSpan> spans = new ArrayList<>();

    @Override
    public void accept(byte[] body) {
        ExportTraceServiceRequest request;
        try {
            request = ExportTraceServiceRequest.parseFrom(body);
        } catch (InvalidProtocolBufferException e) {
            throw new UncheckedIOException(e);
        }
        List<ExportedSpan> decoded = new ArrayList<>();
        for (ResourceSpans resource : request.getResourceSpansList()) {
            String service = attributes(resource.getResource().getAttributesList()).get("service.name");
            for (ScopeSpans scope : resource.getScopeSpansList()) {
                scope.getSpansList().forEach(span -> decoded.add(new ExportedSpan(service,
                        hex(span.getTraceId().toByteArray()), hex(span.getSpanId().toByteArray()),
                        span.getParentSpanId().isEmpty() ? null : hex(span.getParentSpanId().toByteArray()),
                        span.getName(), span.getKind().name().replace("SPAN_KIND_", ""),
                        attributes(span.getAttributesList()),
                        span.getEventsList().stream().map(event -> event.getName()).toList(),
                        span.getLinksList().stream().map(link -> hex(link.getTraceId().toByteArray())).toList())));
            }
        }
        synchronized (spans) {
            spans.addAll(decoded);
        }
    }

    List<ExportedSpan> inTrace(String traceId) {
        synchronized (spans) {
            return spans.stream().filter(span -> span.traceId().equals(traceId)).toList();
        }
    }

    /** The one span of the trace with this name, where there is exactly one. */
    static Optional<ExportedSpan> named(List<ExportedSpan> trace, String name) {
        List<ExportedSpan> found = trace.stream().filter(span -> span.name().equals(name)).toList();
        return found.size() == 1 ? Optional.of(found.get(0)) : Optional.empty();
    }

    static List<ExportedSpan> childrenOf(List<ExportedSpan> trace, ExportedSpan parent) {
        return trace.stream().filter(span -> parent.spanId().equals(span.parentId())).toList();
    }

    static String render(List<ExportedSpan> trace) {
        return trace.stream().map(ExportedSpan::toString).collect(Collectors.joining("\n  ", "\n  ", ""));
    }

    private static Map<String, String> attributes(List<KeyValue> list) {
        Map<String, String> map = new LinkedHashMap<>();
        for (KeyValue kv : list) {
            map.put(kv.getKey(), text(kv.getValue()));
        }
        return map;
    }

    private static String text(AnyValue value) {
        return switch (value.getValueCase()) {
            case STRING_VALUE -> value.getStringValue();
            case INT_VALUE -> Long.toString(value.getIntValue());
            case BOOL_VALUE -> Boolean.toString(value.getBoolValue());
            case DOUBLE_VALUE -> Double.toString(value.getDoubleValue());
            default -> value.toString();
        };
    }

    private static String hex(byte[] bytes) {
        return HexFormat.of().formatHex(bytes);
    }
}
