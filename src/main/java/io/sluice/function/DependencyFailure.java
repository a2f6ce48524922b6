package io.sluice.function;

import io.sluice.delivery.DeliveryException;

/**
 * A batch's function failed because a service it calls is failing (no answer, a timeout, a 5xx, 429 or 408, or
 * calls that outlasted {@code fetch.batchTimeout}): the whole batch waits and is retried, nothing is dead-lettered.
 * Its cause is the {@link DeliveryException} of the service's failure, whose class ({@code Failures.classify} looks
 * through causes) decides the backoff, like a destination's.
 */
public final class DependencyFailure extends RuntimeException {
    DependencyFailure(String syncId, DeliveryException cause) {
        super("a service the function of sync " + syncId + " calls is failing: " + cause.getMessage(), cause);
    }

    public DeliveryException failure() {
        return (DeliveryException) getCause();
    }
}
