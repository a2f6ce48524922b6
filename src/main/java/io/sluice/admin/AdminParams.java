package io.sluice.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.http.JsonErrors;
import io.sluice.queue.DeadLetterReplay;
import java.time.Clock;
import java.time.DateTimeException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The admin API's parameters, checked before anything reaches the database: a bad one is a 400 naming it
 * ({@code invalid_parameter}, {@code invalid_json}), never a 500. The console's JSON checks its parameters here too.
 */
public final class AdminParams {
    static final int MAX_LIMIT = 10_000;
    private static final Instant EARLIEST = Instant.parse("0001-01-01T00:00:00Z");
    private static final ObjectMapper JSON = new ObjectMapper();

    private AdminParams() {}

    /** An integer in 1..max, or the default when absent. */
    public static int limit(String text, int defaultValue) {
        if (text == null || text.isBlank()) return defaultValue;
        try {
            int value = Integer.parseInt(text.trim());
            if (value >= 1 && value <= MAX_LIMIT) return value;
        } catch (NumberFormatException e) {
            // reported below
        }
        throw invalid("'limit' must be an integer from 1 to " + MAX_LIMIT + ", got '" + text + "'");
    }

    /** A dead letter id: a positive integer. */
    static long id(String text) {
        try {
            long value = Long.parseLong(text.trim());
            if (value > 0) return value;
        } catch (NumberFormatException e) {
            // reported below
        }
        throw invalid("the dead letter id must be a positive integer, got '" + text + "'");
    }

    /** An ISO instant or a look-back such as 2h, not before year 1 and not after now; null when absent. */
    public static Instant since(String text, Clock clock) {
        Instant since;
        try {
            since = DeadLetterReplay.parseSince(text, clock);
        } catch (IllegalArgumentException | ArithmeticException | DateTimeException e) {
            throw invalid("'since' must be an ISO instant (2026-05-01T10:00:00Z) or a look-back such as 2h, got '"
                    + text + "'");
        }
        if (since != null
                && (since.isBefore(EARLIEST) || since.isAfter(clock.instant().plusSeconds(86_400)))) {
            throw invalid("'since' must lie between the year 0001 and now, got '" + text + "'");
        }
        return since;
    }

    /** The request body as a JSON object (an empty body is an empty object). */
    static JsonNode object(String body) {
        if (body == null || body.isBlank()) return JSON.createObjectNode();
        JsonNode node;
        try {
            node = JSON.readTree(body);
        } catch (Exception e) {
            throw JsonErrors.badRequest("invalid_json", "the body is not valid JSON");
        }
        if (node == null || !node.isObject())
            throw JsonErrors.badRequest("invalid_json", "the body must be a JSON object");
        return node;
    }

    /** An optional string field. */
    static String text(JsonNode body, String field) {
        JsonNode value = body.get(field);
        if (value == null || value.isNull()) return null;
        if (!value.isTextual()) throw invalid("'" + field + "' must be a string");
        return value.asText();
    }

    /** An optional array of positive integer ids; absent means none. */
    static List<Long> ids(JsonNode body) {
        JsonNode value = body.get("ids");
        List<Long> ids = new ArrayList<>();
        if (value == null || value.isNull()) return ids;
        if (!value.isArray()) throw invalid("'ids' must be an array of dead letter ids");
        for (JsonNode id : value) {
            if (!id.canConvertToLong() || !id.isIntegralNumber() || id.asLong() <= 0) {
                throw invalid("'ids' must hold positive integers, got " + id);
            }
            ids.add(id.asLong());
        }
        return ids;
    }

    private static RuntimeException invalid(String message) {
        return JsonErrors.badRequest("invalid_parameter", message);
    }
}
