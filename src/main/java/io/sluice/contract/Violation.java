package io.sluice.contract;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * One event breaking its source's contract, as published to the violations topic and stored in the
 * {@code violations} table.
 *
 * @param eventName the track event's name, or null for identify and group
 * @param rule      {@code unplanned_event}, or the JSON Schema keyword that failed ({@code type}, {@code required}, ...)
 * @param path      JSON path in the event, e.g. {@code $.properties.total} or {@code $.traits.email}
 * @param action    what happened to the event: {@code allow} (delivered unchanged), {@code block} (dropped) or
 *                  {@code omit} (delivered without the offending property)
 */
public record Violation(
        String sourceId,
        String messageId,
        String eventType,
        String eventName,
        String rule,
        String path,
        String message,
        String action,
        Instant occurredAt) {

    public static final String UNPLANNED_EVENT = "unplanned_event";
    /** Most violations in one record of the violations topic (about 300 bytes each). */
    public static final int PER_RECORD = 100;

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * Violations as one JSON array, the value of one record on the violations topic: one record per request (or per
     * {@link #PER_RECORD} violations) rather than per violation keeps Kafka's per-record cost off the collector.
     * Written by hand (with Jackson's escaping where needed) because it runs on the request thread.
     */
    public static byte[] toJson(List<Violation> violations) {
        StringBuilder json = new StringBuilder(300 * violations.size() + 2).append('[');
        for (int i = 0; i < violations.size(); i++) {
            if (i > 0) json.append(',');
            violations.get(i).appendJson(json);
        }
        return json.append(']').toString().getBytes(StandardCharsets.UTF_8);
    }

    private void appendJson(StringBuilder json) {
        json.append('{');
        field(json, "sourceId", sourceId).append(',');
        field(json, "messageId", messageId).append(',');
        field(json, "eventType", eventType).append(',');
        field(json, "eventName", eventName).append(',');
        field(json, "rule", rule).append(',');
        field(json, "path", path).append(',');
        field(json, "message", message).append(',');
        field(json, "action", action).append(',');
        field(json, "occurredAt", occurredAt.toString());
        json.append('}');
    }

    private static StringBuilder field(StringBuilder json, String name, String value) {
        json.append('"').append(name).append("\":");
        if (value == null) return json.append("null");
        json.append('"');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < 0x20 || c == '"' || c == '\\') {
                JsonStringEncoder.getInstance().quoteAsString(value, json);
                return json.append('"');
            }
        }
        return json.append(value).append('"'); // the common case: nothing to escape
    }

    /** Reads what {@link #toJson(List)} wrote (or a single violation object); IllegalArgumentException on anything else. */
    public static List<Violation> fromJson(byte[] bytes) {
        try {
            JsonNode node = JSON.readTree(bytes);
            if (node == null || !(node.isArray() || node.isObject()))
                throw new IllegalArgumentException("neither an array nor an object");
            List<Violation> violations = new ArrayList<>();
            for (JsonNode element : node.isArray() ? node : List.of(node)) violations.add(read(element));
            return violations;
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("not a violation record: " + e.getMessage(), e);
        }
    }

    private static Violation read(JsonNode node) {
        return new Violation(
                required(node, "sourceId"),
                required(node, "messageId"),
                required(node, "eventType"),
                node.path("eventName").isTextual() ? node.get("eventName").asText() : null,
                required(node, "rule"),
                required(node, "path"),
                required(node, "message"),
                required(node, "action"),
                Instant.parse(required(node, "occurredAt")));
    }

    private static String required(JsonNode node, String field) {
        JsonNode value = node.get(field);
        if (value == null || !value.isTextual()) throw new IllegalArgumentException("'" + field + "' is missing");
        return value.asText();
    }
}
