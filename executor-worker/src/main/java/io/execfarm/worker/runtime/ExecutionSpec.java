package io.execfarm.worker.runtime;

import io.execfarm.contracts.InputFile;
import java.time.Duration;
import java.util.List;

/**
 * What to run on one process.
 *
 * @param session        the session namespace to run in, or null for a fresh one
 * @param maxOutputBytes output beyond this many UTF-8 bytes is dropped and the result marked truncated
 * @param files          written into the process's working directory before the code runs
 * @param collect        globs of the files to collect from it after the code ran, within {@code fileLimits}
 */
public record ExecutionSpec(String id, String code, String session, long maxOutputBytes, Duration timeout,
        List<InputFile> files, List<String> collect, FileLimits fileLimits) {

    public ExecutionSpec {
        files = List.copyOf(files);
        collect = List.copyOf(collect);
    }

    /** Code alone: no files in, none collected. */
    public ExecutionSpec(String id, String code, String session, long maxOutputBytes, Duration timeout) {
        this(id, code, session, maxOutputBytes, timeout, List.of(), List.of(), FileLimits.DEFAULT);
    }
}
