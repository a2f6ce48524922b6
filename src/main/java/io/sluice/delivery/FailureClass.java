package io.sluice.delivery;

/**
 * What kind of failure a delivery met, decided in one place ({@link Failures}); only the class decides what happens
 * next (see {@code worker.DeliveryDecision}). The class says three things: whether a retry can help, whether the
 * failure tells the circuit breaker that the destination is down, and whether it uses up one of an event's attempts
 * (backpressure, conflicts and requests never sent do not: only {@code retry.maxAge} bounds them).
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
    /**
     * The destination refuses the request for its own reasons and would refuse it again (4xx other than 400, 408,
     * 413, 422, 429; 3xx, since redirects are not followed; a missing table or privilege): not the events' fault.
     */
    PERMANENT(false, false, true),
    /**
     * The events' data is refused: a value, size or name the destination cannot take (webhook 400/413/422, SQLSTATE
     * classes 22, 23 and 54, a column name clashing with the schema, a Kafka record too large or invalid, a header
     * value built from event content). The same events would fail anywhere; a batch that fails so as a whole is split
     * to find them, and each of them becomes a dead letter.
     */
    EVENT_DATA(false, false, true),
    /**
     * Anything Sluice did not expect (its own bug: a NullPointerException, IllegalStateException, ClassCastException,
     * ...): retried within the destination's policy, since a fix may be deployed, then dead letters with the error.
     */
    INTERNAL(true, false, true),
    /**
     * Never sent: the circuit was open, the destination paused by Retry-After, or its slots stayed busy. The event
     * waits without having failed.
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

    /** Whether the destination's state, not the events, is why it failed (a row that waits holds nobody's bad event). */
    public boolean destinationsReason() {
        return this == UNREACHABLE
                || this == UNRESPONSIVE
                || this == BACKPRESSURE
                || this == CONFLICT
                || this == NOT_SENT;
    }
}
