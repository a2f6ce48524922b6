package io.sluice.destination;

import java.util.List;
import java.util.Set;

/**
 * A destination that can erase what it holds of people, for privacy deletion requests (docs/privacy.md). The
 * warehouse deletes their rows; a webhook with a {@code deletionUrl} is sent a deletion call. A destination without
 * this capability (the Kafka destination) keeps what it was sent.
 */
public interface UserErasure {
    /**
     * Erases the data of these ids (each a userId or an anonymousId) that came from these sources. Idempotent: a
     * repeated call erases what is left. Throws when it did not complete; the request retries it.
     *
     * @return what was erased, for the request's audit ("12 rows", "HTTP 202")
     */
    String erase(long requestId, Set<String> sourceIds, List<String> ids) throws Exception;

    /** The capability of a destination, or null when it has none (or is configured without it). */
    static UserErasure of(Destination destination) {
        return destination instanceof UserErasure erasure && erasure.erases() ? erasure : null;
    }

    /** Whether this instance is configured to erase (a webhook only with a {@code deletionUrl}). */
    default boolean erases() {
        return true;
    }
}
