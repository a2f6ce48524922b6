package io.sluice.collector;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Locale;

/**
 * The Segment spec's rules for one event. Each failure names its rule and the event's index in the request, so a
 * client can find the offending event in a batch of thousands.
 */
final class EventValidator {
    private final long maxEventSize;

    EventValidator(long maxEventSize) {
        this.maxEventSize = maxEventSize;
    }

    /**
     * Validates one event. {@code pathType} is the type implied by a single-event endpoint (null for batches, where
     * each event names its own type). Returns the event's type. The size limit is checked on the event as stored,
     * by {@link #checkStoredSize}, since the batch-level context merged into each event can make it far larger than
     * it was on the wire.
     */
    EventType validate(ObjectNode event, EventType pathType, int index, int wireSize) {
        EventType type = pathType;
        if (type == null) {
            JsonNode typeNode = event.get("type");
            if (typeNode == null || typeNode.isNull())
                throw Rejection.badEvent(index, "missing_type", "'type' is required in a batch");
            type = EventType.fromWire(typeNode.isTextual() ? typeNode.asText() : null);
            if (type == null) {
                throw Rejection.badEvent(
                        index, "invalid_type", "'type' must be one of track, identify, page, screen, group, alias");
            }
        }
        requireIdentityOrAbsent(event, "userId", index);
        requireIdentityOrAbsent(event, "anonymousId", index);
        if (!isIdentity(event.get("userId")) && !isIdentity(event.get("anonymousId"))) {
            throw Rejection.badEvent(index, "missing_identity", "'userId' or 'anonymousId' is required");
        }
        switch (type) {
            case TRACK -> requireText(event, "event", index);
            case GROUP -> requireIdentity(event, "groupId", index);
            case ALIAS -> requireIdentity(event, "previousId", index);
            case PAGE, SCREEN -> optionalText(event, "name", index);
            case IDENTIFY -> {}
        }
        for (String field : new String[] {"properties", "traits", "context", "integrations"}) {
            JsonNode value = event.get(field);
            if (value != null && !value.isNull() && !value.isObject()) {
                throw Rejection.badEvent(index, "invalid_field_type", "'" + field + "' must be an object");
            }
        }
        optionalText(event, "messageId", index);
        for (String field : new String[] {"timestamp", "sentAt", "originalTimestamp"}) {
            JsonNode value = event.get(field);
            if (value != null && !value.isNull() && (!value.isTextual() || Timestamps.parse(value.asText()) == null)) {
                throw Rejection.badEvent(
                        index,
                        "invalid_timestamp",
                        "'" + field + "' must be an ISO-8601 date-time string in the years 0001-9999");
            }
        }
        return type;
    }

    /** The event as it would be written to Kafka (enriched, batch context merged) must fit {@code maxEventSize}. */
    void checkStoredSize(int storedSize, int index) {
        if (storedSize > maxEventSize) {
            throw Rejection.tooLarge(
                    "event_too_large",
                    "event is " + storedSize + " bytes as stored (with the batch context merged); the limit is "
                            + maxEventSize,
                    index);
        }
    }

    private static boolean isIdentity(JsonNode node) {
        return node != null && ((node.isTextual() && !node.asText().isEmpty()) || node.isIntegralNumber());
    }

    private static void requireIdentityOrAbsent(ObjectNode event, String field, int index) {
        JsonNode node = event.get(field);
        if (node != null && !node.isNull() && !node.isTextual() && !node.isIntegralNumber()) {
            throw Rejection.badEvent(index, "invalid_field_type", "'" + field + "' must be a string");
        }
    }

    private static void requireIdentity(ObjectNode event, String field, int index) {
        if (!isIdentity(event.get(field))) {
            throw Rejection.badEvent(
                    index, "missing_" + snake(field), "'" + field + "' is required for this event type");
        }
    }

    private static void requireText(ObjectNode event, String field, int index) {
        JsonNode node = event.get(field);
        if (node == null || !node.isTextual() || node.asText().isBlank()) {
            throw Rejection.badEvent(
                    index, "missing_" + field, "'" + field + "' is required and must be a non-empty string for track");
        }
    }

    private static void optionalText(ObjectNode event, String field, int index) {
        JsonNode node = event.get(field);
        if (node != null && !node.isNull() && !node.isTextual()) {
            throw Rejection.badEvent(index, "invalid_field_type", "'" + field + "' must be a string");
        }
    }

    private static String snake(String camel) {
        return camel.replaceAll("([a-z])([A-Z])", "$1_$2").toLowerCase(Locale.ROOT);
    }
}
