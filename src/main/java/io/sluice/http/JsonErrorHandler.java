package io.sluice.http;

import java.nio.ByteBuffer;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;

/**
 * Jetty's own error responses (a request it cannot parse: 400, 414, 431, 505, …) as the same JSON as every other
 * Sluice error instead of an HTML page, counted in {@code sluice.http.errors}.
 */
final class JsonErrorHandler extends ErrorHandler {
    private final JsonErrors errors;

    JsonErrorHandler(JsonErrors errors) {
        this.errors = errors;
        setShowStacks(false);
    }

    @Override
    public boolean errorPageForMethod(String method) {
        return true;
    }

    @Override
    protected void generateResponse(
            Request request, Response response, int code, String message, Throwable cause, Callback callback) {
        String rule = JsonErrors.ruleFor(code);
        errors.count(code, rule);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        response.write(true, ByteBuffer.wrap(JsonErrors.body(text(code, message), rule)), callback);
    }

    @Override
    public ByteBuffer badMessageError(int status, String reason, HttpFields.Mutable fields) {
        String rule = JsonErrors.ruleFor(status);
        errors.count(status, rule);
        fields.put(HttpHeader.CONTENT_TYPE, "application/json");
        return ByteBuffer.wrap(JsonErrors.body(text(status, reason), rule));
    }

    private static String text(int code, String message) {
        String reason = HttpStatus.getMessage(code);
        return message == null || message.isBlank() || message.equals(reason) ? reason : reason + ": " + message;
    }
}
