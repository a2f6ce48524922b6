package io.sluice.collector;

import static io.sluice.collector.EventScan.ANONYMOUS_ID;
import static io.sluice.collector.EventScan.CONTEXT;
import static io.sluice.collector.EventScan.EVENT;
import static io.sluice.collector.EventScan.GROUP_ID;
import static io.sluice.collector.EventScan.INTEGRATIONS;
import static io.sluice.collector.EventScan.MESSAGE_ID;
import static io.sluice.collector.EventScan.NAME;
import static io.sluice.collector.EventScan.NAMES;
import static io.sluice.collector.EventScan.ORIGINAL_TIMESTAMP;
import static io.sluice.collector.EventScan.PREVIOUS_ID;
import static io.sluice.collector.EventScan.PROPERTIES;
import static io.sluice.collector.EventScan.SENT_AT;
import static io.sluice.collector.EventScan.TIMESTAMP;
import static io.sluice.collector.EventScan.TRAITS;
import static io.sluice.collector.EventScan.TYPE;
import static io.sluice.collector.EventScan.USER_ID;

import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.util.Locale;

/**
 * The Segment spec's rules for one event. Each failure names its rule and the event's index in the request, so a
 * client can find the offending event in a batch of thousands. The rules read an event's top-level fields through
 * {@link Fields}, so the streaming pass ({@link EventScan}) and a tree (contracts) are judged by the same code.
 */
final class EventValidator {
    private static final int[] OBJECTS = {PROPERTIES, TRAITS, CONTEXT, INTEGRATIONS};
    private static final int[] TIMES = {TIMESTAMP, SENT_AT, ORIGINAL_TIMESTAMP};

    /** An event's top-level fields by {@link EventScan} slot: the JSON kind (null when absent) and text. */
    interface Fields {
        JsonToken token(int field);

        /** A string's text or an integer's digits; null for other kinds. */
        String text(int field);

        /** The field's text as a timestamp ({@link Timestamps#parse}); null if it is none. */
        default Instant instant(int field) {
            String text = text(field);
            return text == null ? null : Timestamps.parse(text);
        }
    }

    private final long maxEventSize;

    EventValidator(long maxEventSize) {
        this.maxEventSize = maxEventSize;
    }

    EventType validate(ObjectNode event, EventType pathType, int index) {
        return validate(tree(event), pathType, index);
    }

    /**
     * Validates one event. {@code pathType} is the type implied by a single-event endpoint (null for batches, where
     * each event names its own type). Returns the event's type. The size limit is checked on the event as stored,
     * by {@link #checkStoredSize}, since the batch-level context merged into each event can make it far larger than
     * it was on the wire.
     */
    EventType validate(Fields event, EventType pathType, int index) {
        EventType type = pathType;
        if (type == null) {
            JsonToken typeToken = event.token(TYPE);
            if (typeToken == null || typeToken == JsonToken.VALUE_NULL)
                throw Rejection.badEvent(index, "missing_type", "'type' is required in a batch");
            type = EventType.fromWire(typeToken == JsonToken.VALUE_STRING ? event.text(TYPE) : null);
            if (type == null) {
                throw Rejection.badEvent(
                        index, "invalid_type", "'type' must be one of track, identify, page, screen, group, alias");
            }
        }
        requireIdentityOrAbsent(event, USER_ID, index);
        requireIdentityOrAbsent(event, ANONYMOUS_ID, index);
        if (!isIdentity(event, USER_ID) && !isIdentity(event, ANONYMOUS_ID)) {
            throw Rejection.badEvent(index, "missing_identity", "'userId' or 'anonymousId' is required");
        }
        switch (type) {
            case TRACK -> requireText(event, EVENT, index);
            case GROUP -> requireIdentity(event, GROUP_ID, index);
            case ALIAS -> requireIdentity(event, PREVIOUS_ID, index);
            case PAGE, SCREEN -> optionalText(event, NAME, index);
            case IDENTIFY -> {}
        }
        for (int field : OBJECTS) {
            JsonToken value = event.token(field);
            if (value != null && value != JsonToken.VALUE_NULL && value != JsonToken.START_OBJECT) {
                throw Rejection.badEvent(index, "invalid_field_type", "'" + NAMES[field] + "' must be an object");
            }
        }
        optionalText(event, MESSAGE_ID, index);
        for (int field : TIMES) {
            JsonToken value = event.token(field);
            if (value != null
                    && value != JsonToken.VALUE_NULL
                    && (value != JsonToken.VALUE_STRING || event.instant(field) == null)) {
                throw Rejection.badEvent(
                        index,
                        "invalid_timestamp",
                        "'" + NAMES[field] + "' must be an ISO-8601 date-time string in the years 0001-9999");
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

    /** A tree's fields in the same terms as a scan's. */
    static Fields tree(ObjectNode event) {
        return new Fields() {
            @Override
            public JsonToken token(int field) {
                JsonNode node = event.get(NAMES[field]);
                return node == null ? null : node.asToken();
            }

            @Override
            public String text(int field) {
                JsonNode node = event.get(NAMES[field]);
                return node != null && (node.isTextual() || node.isIntegralNumber()) ? node.asText() : null;
            }
        };
    }

    private static boolean isIdentity(Fields event, int field) {
        JsonToken token = event.token(field);
        return (token == JsonToken.VALUE_STRING && !event.text(field).isEmpty()) || token == JsonToken.VALUE_NUMBER_INT;
    }

    private static void requireIdentityOrAbsent(Fields event, int field, int index) {
        JsonToken token = event.token(field);
        if (token != null
                && token != JsonToken.VALUE_NULL
                && token != JsonToken.VALUE_STRING
                && token != JsonToken.VALUE_NUMBER_INT) {
            throw Rejection.badEvent(index, "invalid_field_type", "'" + NAMES[field] + "' must be a string");
        }
    }

    private static void requireIdentity(Fields event, int field, int index) {
        if (!isIdentity(event, field)) {
            throw Rejection.badEvent(
                    index, "missing_" + snake(NAMES[field]), "'" + NAMES[field] + "' is required for this event type");
        }
    }

    private static void requireText(Fields event, int field, int index) {
        if (event.token(field) != JsonToken.VALUE_STRING || event.text(field).isBlank()) {
            throw Rejection.badEvent(
                    index,
                    "missing_" + NAMES[field],
                    "'" + NAMES[field] + "' is required and must be a non-empty string for track");
        }
    }

    private static void optionalText(Fields event, int field, int index) {
        JsonToken token = event.token(field);
        if (token != null && token != JsonToken.VALUE_NULL && token != JsonToken.VALUE_STRING) {
            throw Rejection.badEvent(index, "invalid_field_type", "'" + NAMES[field] + "' must be a string");
        }
    }

    private static String snake(String camel) {
        return camel.replaceAll("([a-z])([A-Z])", "$1_$2").toLowerCase(Locale.ROOT);
    }
}
