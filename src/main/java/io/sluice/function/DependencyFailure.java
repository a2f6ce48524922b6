package io.sluice.function;

import io.sluice.delivery.DeliveryException;
import java.time.Duration;
import java.time.Instant;

/**
 * A batch's function failed because a service it calls is failing (no answer, a timeout, a 5xx, 429 or 408, a call
 * not sent while the host's Retry-After pause lasts, or calls that outlasted {@code fetch.batchTimeout}): the whole
 * batch waits and is retried, nothing is dead-lettered. Its cause is the {@link DeliveryException} of the service's
 * failure, whose class ({@code Failures.classify} looks through causes) decides the backoff and whether the wait
 * uses an attempt, like a destination's; {@link #notBefore} is when a called host's Retry-After ends, so the batch's
 * next attempt is not earlier (the same rule as a destination's Retry-After, in {@code worker.DeliveryDecision}).
 */
public final class DependencyFailure extends RuntimeException {
    private final Instant notBefore;

    DependencyFailure(String syncId, DeliveryException cause, Instant notBefore) {
        super("a service the function of sync " + syncId + " calls is failing: " + cause.getMessage(), cause);
        this.notBefore = notBefore;
    }

    public DeliveryException failure() {
        return (DeliveryException) getCause();
    }

    /** When a called host's Retry-After pause ends (the latest seen in the batch), or null: no pause. */
    public Instant notBefore() {
        return notBefore;
    }

    /**
     * How long from {@code now} a failure (or a failure it caused) must wait for a called host's Retry-After; null
     * when it carries none or the pause is already over.
     */
    public static Duration retryAfter(Throwable failure, Instant now) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof DependencyFailure dependency && dependency.notBefore != null) {
                Duration left = Duration.between(now, dependency.notBefore);
                return left.isPositive() ? left : null;
            }
        }
        return null;
    }
}
