package io.sluice.http;

import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every error a Sluice HTTP server answers outside its routes' own refusals is JSON with a stable rule name, and
 * counted: {@code {"success":false,"error":"…","rule":"…"}}. That covers Jetty's protocol errors (bad request line,
 * URI or headers too long, unsupported HTTP version: {@link JsonErrorHandler}), Javalin's 404/405/413 and any
 * exception a route lets escape (500, logged through a {@link ThrottledLog}).
 */
public final class JsonErrors {
    private static final Logger log = LoggerFactory.getLogger(JsonErrors.class);

    private final String server;
    private final MeterRegistry registry;
    private final Map<String, Counter> counters = new ConcurrentHashMap<>();
    private final ThrottledLog unexpected;

    /** @param server the server's name in the {@code server} tag ("collector", "admin") */
    public JsonErrors(String server, MeterRegistry registry) {
        this.server = server;
        this.registry = registry;
        this.unexpected = new ThrottledLog(log, "Unexpected failure in a request to the " + server + " server");
    }

    /** Installs the handlers on a Javalin config: before the routes are added. */
    public void install(JavalinConfig config) {
        config.http.prefer405over404 = true;
        config.routes.exception(
                HttpResponseException.class,
                (e, ctx) -> respond(
                        ctx, e.getStatus(), e.getDetails().getOrDefault("rule", ruleFor(e.getStatus())), message(e)));
        config.routes.exception(Exception.class, (e, ctx) -> {
            unexpected.log(e);
            respond(ctx, 500, "internal_error", "the server failed to process the request; it has been logged");
        });
        config.router.javaLangErrorHandler((response, error) -> {
            unexpected.log(error);
            try {
                response.setStatus(500);
                response.setContentType("application/json");
                response.getOutputStream()
                        .write(body("the server failed to process the request; it has been logged", "internal_error"));
                count(500, "internal_error");
            } catch (IOException | RuntimeException ignored) {
                // the client is gone; nothing more to tell it
            }
        });
        config.jetty.modifyServer(jetty -> jetty.setErrorHandler(new JsonErrorHandler(this)));
    }

    /** A 400 with its own rule name, rendered by the handler above (routes throw it for bad parameters). */
    public static HttpResponseException badRequest(String rule, String message) {
        return new HttpResponseException(400, message, Map.of("rule", rule));
    }

    /** Answers {@code status} with the JSON error body and counts it. */
    public void respond(Context ctx, int status, String rule, String message) {
        count(status, rule);
        ctx.status(status).contentType("application/json").result(body(message, rule));
    }

    void count(int status, String rule) {
        counters.computeIfAbsent(
                        status + ":" + rule,
                        key -> Counter.builder("sluice.http.errors")
                                .description(
                                        "Error responses given outside the routes' own refusals, by server, status and rule")
                                .tag("server", server)
                                .tag("status", Integer.toString(status))
                                .tag("rule", rule)
                                .register(registry))
                .increment();
    }

    /** Stable rule names for the statuses Jetty and Javalin produce themselves. */
    public static String ruleFor(int status) {
        return switch (status) {
            case 400 -> "bad_request";
            case 401 -> "unauthorized";
            case 403 -> "forbidden";
            case 404 -> "not_found";
            case 405 -> "method_not_allowed";
            case 408 -> "request_timeout";
            case 411 -> "length_required";
            case 413 -> "request_too_large";
            case 414 -> "uri_too_long";
            case 415 -> "unsupported_media_type";
            case 417 -> "expectation_failed";
            case 431 -> "headers_too_large";
            case 500 -> "internal_error";
            case 501 -> "not_implemented";
            case 503 -> "unavailable";
            case 505 -> "http_version_not_supported";
            default -> "http_" + status;
        };
    }

    static byte[] body(String message, String rule) {
        return ("{\"success\":false,\"error\":" + quote(message) + ",\"rule\":" + quote(rule) + "}")
                .getBytes(StandardCharsets.UTF_8);
    }

    private static String message(HttpResponseException e) {
        String message = e.getMessage();
        return message == null || message.isBlank() ? ruleFor(e.getStatus()).replace('_', ' ') : message;
    }

    /** A JSON string literal (the messages are ours or Jetty's reason phrases, but quote them properly anyway). */
    static String quote(String text) {
        StringBuilder out = new StringBuilder(text.length() + 2).append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                default -> {
                    if (c < 0x20 || Character.isSurrogate(c)) out.append(String.format("\\u%04x", (int) c));
                    else out.append(c);
                }
            }
        }
        return out.append('"').toString();
    }
}
