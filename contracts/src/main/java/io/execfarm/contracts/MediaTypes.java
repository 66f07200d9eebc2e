package io.execfarm.contracts;

import java.util.Locale;
import java.util.Map;

/** Media types of collected files, from their names: the common ones of data, documents and pictures. */
public final class MediaTypes {

    public static final String UNKNOWN = "application/octet-stream";

    private static final Map<String, String> BY_EXTENSION = Map.ofEntries(
            Map.entry("png", "image/png"), Map.entry("jpg", "image/jpeg"), Map.entry("jpeg", "image/jpeg"),
            Map.entry("gif", "image/gif"), Map.entry("svg", "image/svg+xml"), Map.entry("pdf", "application/pdf"),
            Map.entry("csv", "text/csv"), Map.entry("tsv", "text/tab-separated-values"), Map.entry("txt", "text/plain"),
            Map.entry("md", "text/markdown"), Map.entry("html", "text/html"), Map.entry("json", "application/json"),
            Map.entry("xml", "application/xml"), Map.entry("zip", "application/zip"), Map.entry("gz", "application/gzip"),
            Map.entry("npy", "application/octet-stream"), Map.entry("parquet", "application/vnd.apache.parquet"),
            Map.entry("jl", "text/x-julia"), Map.entry("py", "text/x-python"));

    private MediaTypes() {
    }

    public static String of(String path) {
        int dot = path.lastIndexOf('.');
        if (dot < 0 || dot < path.lastIndexOf('/')) {
            return UNKNOWN;
        }
        return BY_EXTENSION.getOrDefault(path.substring(dot + 1).toLowerCase(Locale.ROOT), UNKNOWN);
    }
}
