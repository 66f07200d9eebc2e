package io.execfarm.dispatcher.http;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * An RFC 9457 problem document ({@code application/problem+json}).
 *
 * @param field    the request field at fault, when one is
 * @param runtimes the runtimes that have live workers, when the problem is the runtime
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Problem(String type, String title, int status, String detail, String instance, String field,
        List<String> runtimes) {

    public static final String MEDIA_TYPE = "application/problem+json";

    static Problem of(int status, String slug, String title, String detail) {
        return new Problem("https://execfarm.io/problems/" + slug, title, status, detail, null, null, null);
    }

    Problem withField(String field) {
        return new Problem(type, title, status, detail, instance, field, runtimes);
    }

    Problem withRuntimes(List<String> runtimes) {
        return new Problem(type, title, status, detail, instance, field, runtimes);
    }

    Problem at(String instance) {
        return new Problem(type, title, status, detail, instance, field, runtimes);
    }
}
