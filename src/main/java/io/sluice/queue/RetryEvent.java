package io.sluice.queue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;

/**
 * An event waiting in the per-sync retry queue. {@code userKey} (userId, else anonymousId) orders a user's events:
 * a chain is delivered head first, and nothing behind a failing head is sent.
 */
public record RetryEvent(long id, String syncId, String userKey, String messageId, ObjectNode event, int attempts,
                         Instant nextAttemptAt, Instant firstFailedAt, String lastError, Integer statusCode) {

    /** A new entry (id assigned by the store). */
    public static RetryEvent of(String syncId, ObjectNode event, int attempts, Instant nextAttemptAt, Instant firstFailedAt,
                                String lastError, Integer statusCode) {
        return new RetryEvent(0, syncId, userKey(event), event.path("messageId").asText(""), event, attempts, nextAttemptAt,
                firstFailedAt, lastError, statusCode);
    }

    /** The user an event belongs to, for ordering: userId, else anonymousId, else its messageId (its own chain). */
    public static String userKey(ObjectNode event) {
        String user = event.path("userId").asText("");
        if (user.isEmpty()) user = event.path("anonymousId").asText("");
        return user.isEmpty() ? "message:" + event.path("messageId").asText("") : user;
    }
}
