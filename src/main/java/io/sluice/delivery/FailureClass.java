package io.sluice.delivery;

/**
 * What kind of failure a delivery met, decided in one place ({@link Failures}). The class says three things: whether
 * a retry can help, whether the failure tells the circuit breaker that the destination is down, and whether it uses
 * up one of an event's attempts (backpressure and requests never sent do not: only {@code retry.maxAge} bounds them).
 */
public enum FailureClass {
    /** Connection refused, connect timeout, TLS failure, unknown host: the destination was never reached. */
    UNREACHABLE(true, true, true),
    /** Reached, but no (complete) answer within the request timeout, or the connection dropped mid-exchange. */
    UNRESPONSIVE(true, true, true),
    /** The destination answered with an error (5xx other than 503, 408): it is up, this request failed. */
    RESPONSIVE_ERROR(true, false, true),
    /** 429, or 503, with or without Retry-After: a request to slow down, not a failure of the event. */
    BACKPRESSURE(true, false, false),
    /** The destination's own concurrent change: a deadlock, a serialization failure, a schema changed under the load. Retried promptly; uses no attempt. */
    CONFLICT(true, false, false),
    /** 4xx other than 408/429 (and 3xx: redirects are not followed): the same request would be refused again. */
    PERMANENT(false, false, true),
    /**
     * Never sent: the circuit was open, the destination paused by Retry-After, or its slots stayed busy. The event is
     * parked, not failed.
     */
    NOT_SENT(true, false, false);

    private final boolean retriable;
    private final boolean destinationDown;
    private final boolean usesAttempt;

    FailureClass(boolean retriable, boolean destinationDown, boolean usesAttempt) {
        this.retriable = retriable;
        this.destinationDown = destinationDown;
        this.usesAttempt = usesAttempt;
    }

    public boolean retriable() {
        return retriable;
    }

    /** Counts toward the circuit breaker's failure rate (the destination looks down, not merely erroring). */
    public boolean destinationDown() {
        return destinationDown;
    }

    /** Counts toward {@code retry.maxAttempts}. */
    public boolean usesAttempt() {
        return usesAttempt;
    }
}
