package io.sluice.event;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * "The user of an event", the one definition that per-user ordering rests on: the collector's Kafka partition key,
 * the webhook destination's per-user lanes, the Kafka destination's record key and the retry queue's chains all
 * use it, so one user's events are ordered the same way everywhere.
 *
 * <p>The user is the {@code userId}, else the {@code anonymousId} (a non-empty string or number), else — for an
 * event with neither, which the collector refuses but a function may produce — {@code message:<messageId>}: such an
 * event is a user of its own and is ordered with nothing else.
 */
public final class UserKey {
    public static final String MESSAGE_PREFIX = "message:";

    private UserKey() {}

    public static String of(JsonNode event) {
        return of(
                identity(event.get("userId")),
                identity(event.get("anonymousId")),
                event.path("messageId").asText(""));
    }

    /** The same from the ids' texts (null when absent, null or not a value), for code that has no tree. */
    public static String of(String userId, String anonymousId, String messageId) {
        if (userId != null && !userId.isEmpty()) return userId;
        if (anonymousId != null && !anonymousId.isEmpty()) return anonymousId;
        return MESSAGE_PREFIX + messageId;
    }

    private static String identity(JsonNode value) {
        if (value == null || !value.isValueNode() || value.isNull()) return null;
        String text = value.asText();
        return text.isEmpty() ? null : text;
    }
}
