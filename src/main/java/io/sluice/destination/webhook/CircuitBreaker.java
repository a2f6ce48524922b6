package io.sluice.destination.webhook;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stops calling a destination that keeps failing. Closed: every request goes out; {@code threshold} consecutive
 * retriable failures open it. Open: requests fail fast without a call until {@code coolDown} has passed; then the
 * next request is the one probe (half-open) while the others still fail fast. The probe's success closes the
 * circuit, its failure opens it for another cool-down. Any answer that is not a retriable failure (a 2xx, or a 4xx
 * that says the request itself is wrong) shows the destination is up and counts as a success.
 */
final class CircuitBreaker {
    private static final Logger log = LoggerFactory.getLogger(CircuitBreaker.class);

    enum State {
        CLOSED(0), OPEN(1), HALF_OPEN(2);

        /** The value of the circuit-state gauge. */
        final int gauge;

        State(int gauge) {
            this.gauge = gauge;
        }
    }

    private final String name;
    private final int threshold;
    private final Duration coolDown;
    private final Clock clock;
    private State state = State.CLOSED;
    private int consecutiveFailures;
    private Instant openedAt;

    CircuitBreaker(String name, int threshold, Duration coolDown, Clock clock) {
        this.name = name;
        this.threshold = threshold;
        this.coolDown = coolDown;
        this.clock = clock;
    }

    /**
     * Whether a request may go out now. When this returns true for an open circuit whose cool-down has passed, the
     * caller's request is the probe and must report its outcome ({@link #succeeded}, {@link #failed} or
     * {@link #abandoned}).
     */
    synchronized boolean tryPass() {
        return switch (state) {
            case CLOSED -> true;
            case HALF_OPEN -> false; // the probe is out
            case OPEN -> {
                if (clock.instant().isBefore(openedAt.plus(coolDown))) yield false;
                state = State.HALF_OPEN;
                log.info("Circuit of {} is half-open: sending one probe request", name);
                yield true;
            }
        };
    }

    /** How long until an open circuit lets a probe through (zero when closed or probing). */
    synchronized Duration untilProbe() {
        if (state != State.OPEN) return Duration.ZERO;
        Duration left = Duration.between(clock.instant(), openedAt.plus(coolDown));
        return left.isNegative() ? Duration.ZERO : left;
    }

    synchronized void succeeded() {
        consecutiveFailures = 0;
        if (state != State.CLOSED) log.info("Circuit of {} closed: the destination answers again", name);
        state = State.CLOSED;
    }

    /** A retriable failure (connection error, timeout, 408, 429, 5xx). */
    synchronized void failed() {
        consecutiveFailures++;
        if (state == State.HALF_OPEN || (state == State.CLOSED && consecutiveFailures >= threshold)) {
            log.warn("Circuit of {} opened after {} consecutive failures; requests fail fast for {}, then one probe",
                    name, consecutiveFailures, coolDown);
            state = State.OPEN;
            openedAt = clock.instant();
        }
    }

    /** The request was not completed (interrupted): a probe gives its turn to the next request. */
    synchronized void abandoned() {
        if (state == State.HALF_OPEN) state = State.OPEN;
    }

    synchronized State state() {
        return state;
    }
}
