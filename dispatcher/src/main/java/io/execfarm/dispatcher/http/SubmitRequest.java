package io.execfarm.dispatcher.http;

import io.execfarm.contracts.InputFile;
import io.execfarm.contracts.WirePaths;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Size;
import java.util.List;

/**
 * {@code POST /v1/executions}.
 *
 * @param timeoutMs      wall-clock limit; the dispatcher's default when absent
 * @param maxOutputBytes output kept; 1 MiB when absent
 * @param files          files written into the working directory before the code runs
 * @param collect        globs of the files to bring back in the result
 */
public record SubmitRequest(
        @NotBlank(message = "is required, e.g. \"julia\" or \"python\"")
        @Pattern(regexp = "[a-z][a-z0-9_-]{0,31}", message = "must be a runtime name such as julia or python")
        String runtime,
        @NotNull(message = "is required (the code to run)")
        String code,
        @Pattern(regexp = "[A-Za-z0-9][A-Za-z0-9._:-]{0,127}",
                message = "must be 1 to 128 of letters, digits, '.', '_', ':' or '-'")
        String session,
        @Min(value = 1, message = "must be at least 1") @Max(value = 3_600_000, message = "must be at most 3600000")
        Long timeoutMs,
        @Min(value = 0, message = "must not be negative") @Max(value = 67_108_864, message = "must be at most 67108864")
        Long maxOutputBytes,
        @Size(max = InputFile.MAX_FILES, message = "must hold at most 100 files") List<File> files,
        @Size(max = WirePaths.MAX_GLOBS, message = "must hold at most 20 globs") List<String> collect) {

    /**
     * A file sent along: its content as {@code base64}, or as {@code text} (written as UTF-8), or
     * {@code ref}, the id of a file stored before (uploaded, or collected by an earlier execution).
     */
    public record File(String path, String base64, String text, String ref) {
    }
}
