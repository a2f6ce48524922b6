package io.sluice.queue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;

/**
 * An event that could not be delivered, with why: its {@link DeadLetterKind} and an error. {@code statusCode} is the destination's HTTP status when there is
 * one; {@code error} is bounded (a snippet of a response body at most).
 */
public record DeadLetter(
        long id,
        String syncId,
        String messageId,
        ObjectNode event,
        DeadLetterKind kind,
        String error,
        Integer statusCode,
        int attempts,
        Long batchId,
        Instant firstFailedAt,
        Instant failedAt,
        Instant replayedAt) {

    /** A new dead letter (id and times filled in by the store). */
    public static DeadLetter of(
            String syncId,
            ObjectNode event,
            DeadLetterKind kind,
            String error,
            Integer statusCode,
            int attempts,
            Long batchId) {
        String messageId = event.path("messageId").asText("");
        String bounded =
                error == null ? "unknown error" : error.length() > 2000 ? error.substring(0, 2000) + "…" : error;
        return new DeadLetter(
                0, syncId, messageId, event, kind, bounded, statusCode, attempts, batchId, null, null, null);
    }
}
