package io.sluice.queue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.event.UserKey;
import java.time.Instant;

/**
 * An event waiting in the per-sync retry queue. {@code userKey} ({@link UserKey}) orders a user's events:
 * a chain is delivered head first, and nothing behind a failing head is sent.
 */
public record RetryEvent(
        long id,
        String syncId,
        String userKey,
        String messageId,
        ObjectNode event,
        int attempts,
        Instant nextAttemptAt,
        Instant firstFailedAt,
        String lastError,
        Integer statusCode) {

    /** A new entry (id assigned by the store). */
    public static RetryEvent of(
            String syncId,
            ObjectNode event,
            int attempts,
            Instant nextAttemptAt,
            Instant firstFailedAt,
            String lastError,
            Integer statusCode) {
        return new RetryEvent(
                0,
                syncId,
                userKey(event),
                event.path("messageId").asText(""),
                event,
                attempts,
                nextAttemptAt,
                firstFailedAt,
                lastError,
                statusCode);
    }

    /** The user an event belongs to, for ordering: {@link UserKey}. */
    public static String userKey(ObjectNode event) {
        return UserKey.of(event);
    }
}
