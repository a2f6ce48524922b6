package io.sluice.destination.webhook;

import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig.SlidingWindowType;
import io.sluice.delivery.FailureClass;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stops calling a destination that is down, built from two resilience4j breakers over count-based sliding windows
 * (docs/decisions.md). The "down" breaker records unreachable and unresponsive requests as failures and every answer
 * as a success, and opens at {@code failureRate}. The "error" breaker records responsive errors (5xx with a response)
 * as failures and 2xx/4xx as successes and opens only at the much higher {@code errorRate}: a destination that answers
 * is not dead. Backpressure (429/503) is recorded by neither. Neither judges before {@code minimumCalls}. An open
 * breaker fails requests fast for {@code coolDown}; then {@code probes} requests go through (half-open) and their
 * rate decides. One log line per state change.
 */
final class CircuitBreaker {
    private static final Logger log = LoggerFactory.getLogger(CircuitBreaker.class);

    enum State {
        CLOSED(0),
        OPEN(1),
        HALF_OPEN(2);

        /** The value of the circuit-state gauge. */
        final int gauge;

        State(int gauge) {
            this.gauge = gauge;
        }
    }

    /** One admitted request: report its outcome exactly once through {@link #record} or {@link #abandon}. */
    final class Permit {
        private final long started = System.nanoTime();
        private boolean done;

        void record(FailureClass failure) {
            if (done) return;
            done = true;
            long nanos = System.nanoTime() - started;
            if (failure == null || !failure.retriable()) { // refused requests: the destination is up
                down.onSuccess(nanos, TimeUnit.NANOSECONDS);
                errors.onSuccess(nanos, TimeUnit.NANOSECONDS);
            } else if (failure.destinationDown()) {
                down.onError(nanos, TimeUnit.NANOSECONDS, new Exception(failure.name()));
                errors.releasePermission();
            } else if (failure == FailureClass.RESPONSIVE_ERROR) {
                down.onSuccess(nanos, TimeUnit.NANOSECONDS);
                errors.onError(nanos, TimeUnit.NANOSECONDS, new Exception(failure.name()));
            } else { // backpressure: the destination is up; the request is neither a success nor an error
                down.onSuccess(nanos, TimeUnit.NANOSECONDS);
                errors.releasePermission();
            }
        }

        void abandon() {
            if (done) return;
            done = true;
            down.releasePermission();
            errors.releasePermission();
        }
    }

    private final String name;
    private final Duration coolDown;
    private final Clock clock;
    private final io.github.resilience4j.circuitbreaker.CircuitBreaker down;
    private final io.github.resilience4j.circuitbreaker.CircuitBreaker errors;
    private volatile Instant openedAt = Instant.MIN;

    CircuitBreaker(String name, WebhookSettings.Breaker settings, Clock clock) {
        this.name = name;
        this.coolDown = settings.coolDown();
        this.clock = clock;
        this.down = breaker(name + " (down)", settings, settings.failureRate(), clock);
        this.errors = breaker(name + " (errors)", settings, settings.errorRate(), clock);
    }

    private io.github.resilience4j.circuitbreaker.CircuitBreaker breaker(
            String id, WebhookSettings.Breaker settings, int rate, Clock clock) {
        CircuitBreakerConfig config = CircuitBreakerConfig.custom()
                .slidingWindow(
                        settings.window(),
                        Math.min(settings.minimumCalls(), settings.window()),
                        SlidingWindowType.COUNT_BASED)
                .failureRateThreshold(rate)
                .permittedNumberOfCallsInHalfOpenState(settings.probes())
                .waitDurationInOpenState(settings.coolDown().isZero() ? Duration.ofMillis(1) : settings.coolDown())
                .automaticTransitionFromOpenToHalfOpenEnabled(false)
                .writableStackTraceEnabled(false)
                .clock(clock)
                .currentTimestampFunction(Clock::millis, TimeUnit.MILLISECONDS)
                .build();
        io.github.resilience4j.circuitbreaker.CircuitBreaker breaker =
                io.github.resilience4j.circuitbreaker.CircuitBreaker.of(id, config);
        breaker.getEventPublisher().onStateTransition(event -> {
            var transition = event.getStateTransition();
            if (transition.getToState() == io.github.resilience4j.circuitbreaker.CircuitBreaker.State.OPEN)
                openedAt = clock.instant();
            float failureRate = breaker.getMetrics().getFailureRate();
            log.warn(
                    "Circuit of {}: {} -> {} (failure rate {}% of the last {} requests){}",
                    id,
                    transition.getFromState(),
                    transition.getToState(),
                    failureRate < 0 ? "n/a " : failureRate,
                    breaker.getMetrics().getNumberOfBufferedCalls(),
                    transition.getToState() == io.github.resilience4j.circuitbreaker.CircuitBreaker.State.OPEN
                            ? "; requests fail fast for " + coolDown + ", then " + settings.probes() + " probes"
                            : "");
        });
        return breaker;
    }

    /** A permit for one request, or null when the circuit is open (fail fast: the request is not sent). */
    Permit tryPass() {
        if (!down.tryAcquirePermission()) return null;
        if (!errors.tryAcquirePermission()) {
            down.releasePermission();
            return null;
        }
        return new Permit();
    }

    /** How long until an open circuit lets probes through (zero when closed or probing). */
    Duration untilProbe() {
        if (state() != State.OPEN) return Duration.ZERO;
        Duration left = Duration.between(clock.instant(), openedAt.plus(coolDown));
        return left.isNegative() ? Duration.ZERO : left;
    }

    /** Open if either breaker is open, half-open if either probes, else closed. */
    State state() {
        State a = map(down.getState());
        State b = map(errors.getState());
        if (a == State.OPEN || b == State.OPEN) return State.OPEN;
        if (a == State.HALF_OPEN || b == State.HALF_OPEN) return State.HALF_OPEN;
        return State.CLOSED;
    }

    String name() {
        return name;
    }

    private static State map(io.github.resilience4j.circuitbreaker.CircuitBreaker.State state) {
        return switch (state) {
            case OPEN, FORCED_OPEN -> State.OPEN;
            case HALF_OPEN -> State.HALF_OPEN;
            default -> State.CLOSED;
        };
    }
}
