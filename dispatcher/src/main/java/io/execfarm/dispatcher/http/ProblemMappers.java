package io.execfarm.dispatcher.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import io.quarkus.hibernate.validator.runtime.jaxrs.ResteasyReactiveViolationException;
import jakarta.validation.ConstraintViolation;
import jakarta.validation.ConstraintViolationException;
import jakarta.validation.Path;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import java.util.stream.Collectors;
import org.jboss.resteasy.reactive.RestResponse;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/** Every error of the API as an RFC 9457 problem document that names what is wrong. */
public class ProblemMappers {

    @ServerExceptionMapper
    public RestResponse<Problem> problem(ProblemException e, UriInfo uri) {
        RestResponse.ResponseBuilder<Problem> response = RestResponse.ResponseBuilder
                .create(Response.Status.fromStatusCode(e.problem().status()), e.problem().at(uri.getPath()))
                .type(Problem.MEDIA_TYPE);
        e.headers().forEach(response::header);
        return response.build();
    }

    @ServerExceptionMapper
    public RestResponse<Problem> invalid(ConstraintViolationException e, UriInfo uri) {
        ConstraintViolation<?> first = e.getConstraintViolations().iterator().next();
        String field = lastNode(first.getPropertyPath());
        String detail = e.getConstraintViolations().stream()
                .map(v -> "'" + lastNode(v.getPropertyPath()) + "' " + v.getMessage())
                .sorted()
                .collect(Collectors.joining("; "));
        return respond(Problem.of(400, "invalid-request", "Invalid request", detail).withField(field), uri);
    }

    /** Quarkus maps this subtype itself; naming it here keeps the problem format. */
    @ServerExceptionMapper
    public RestResponse<Problem> invalidParameters(ResteasyReactiveViolationException e, UriInfo uri) {
        return invalid(e, uri);
    }

    /** Quarkus maps this subtype itself; naming it here keeps the problem format. */
    @ServerExceptionMapper
    public RestResponse<Problem> mismatched(MismatchedInputException e, UriInfo uri) {
        return unreadable(e, uri);
    }

    @ServerExceptionMapper
    public RestResponse<Problem> unreadable(JsonProcessingException e, UriInfo uri) {
        String field = null;
        if (e instanceof JsonMappingException mapping && !mapping.getPath().isEmpty()) {
            field = mapping.getPath().stream()
                    .map(ref -> ref.getFieldName() != null ? ref.getFieldName() : "[" + ref.getIndex() + "]")
                    .collect(Collectors.joining("."));
        }
        Problem problem = Problem.of(400, "unreadable-body", "Unreadable request body",
                "the body is not the JSON this endpoint takes: " + e.getOriginalMessage());
        return respond(field != null ? problem.withField(field) : problem, uri);
    }

    /** What the framework itself refuses: an unreadable body (400), an unknown path (404), a wrong method (405)... */
    @ServerExceptionMapper
    public RestResponse<Problem> framework(WebApplicationException e, UriInfo uri) {
        int status = e.getResponse().getStatus();
        if (status == 400) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            return respond(Problem.of(400, "unreadable-body", "Unreadable request body",
                    "the body is not the JSON this endpoint takes: " + cause.getMessage()), uri);
        }
        Response.StatusType type = Response.Status.fromStatusCode(status);
        String title = type != null ? type.getReasonPhrase() : "HTTP " + status;
        return respond(Problem.of(status, "http-" + status, title, e.getMessage()), uri);
    }

    private static RestResponse<Problem> respond(Problem problem, UriInfo uri) {
        return RestResponse.ResponseBuilder.create(Response.Status.fromStatusCode(problem.status()), problem.at(uri.getPath()))
                .type(Problem.MEDIA_TYPE)
                .build();
    }

    private static String lastNode(Path path) {
        String name = null;
        for (Path.Node node : path) {
            name = node.getName();
        }
        return name;
    }
}
