package io.sluice.destination;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.delivery.DeliveryException;
import java.time.Duration;
import java.util.List;

/**
 * What a destination did with a batch when it did not simply succeed or fail as a whole: the events that failed.
 * Every event of the batch not listed here was delivered. Each failure has its class (only the class decides what
 * happens to the event); a retriable one may carry the destination's {@code Retry-After}; events held back behind a
 * failed event of the same user are listed as {@code NOT_SENT}.
 */
public record DeliveryReport(List<EventFailure> failures) {
    private static final DeliveryReport OK = new DeliveryReport(List.of());

    public static DeliveryReport delivered() {
        return OK;
    }

    public boolean allDelivered() {
        return failures.isEmpty();
    }

    /**
     * One event that was not delivered: why (retriable or not), the destination's status code if any, and how long
     * the destination asked us to wait (null: use the backoff). {@code event} is the very instance the batch held:
     * the worker tells delivered from failed events by identity (events of one batch may be equal).
     */
    public record EventFailure(ObjectNode event, DeliveryException error, Integer statusCode, Duration retryAfter) {}
}
