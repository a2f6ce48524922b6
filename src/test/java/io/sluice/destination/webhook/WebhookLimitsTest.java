package io.sluice.destination.webhook;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.delivery.Failures;
import io.sluice.support.MutableClock;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The clock-driven parts on their own: token bucket, breaker states, Retry-After, the status decision. */
class WebhookLimitsTest {
    private final MutableClock clock = new MutableClock(Instant.parse("2026-05-01T10:00:00Z"));

    @Test
    void theTokenBucketSpacesReservationsAndRefusesWaitsBeyondTheBound() {
        RateLimiter limiter = new RateLimiter(10, clock); // 100 ms a unit, burst of 1
        Duration bound = Duration.ofMillis(250);

        assertThat(limiter.reserve(1, bound)).isEqualTo(Duration.ZERO);
        assertThat(limiter.reserve(1, bound)).isEqualTo(Duration.ofMillis(100));
        assertThat(limiter.reserve(1, bound)).isEqualTo(Duration.ofMillis(200));
        assertThat(limiter.reserve(1, bound)).as("would wait 300 ms").isNull();
        assertThat(limiter.untilFree()).isEqualTo(Duration.ofMillis(300));

        clock.tick(Duration.ofSeconds(10)); // idle: at most a tenth of a second's burst is stored
        assertThat(limiter.reserve(1, bound)).isEqualTo(Duration.ZERO);
        assertThat(limiter.reserve(1, bound)).isEqualTo(Duration.ZERO);
        assertThat(limiter.reserve(5, bound)).as("a large request waits its turn only").isEqualTo(Duration.ofMillis(100));
        assertThat(limiter.reserve(1, Duration.ofSeconds(1))).as("the next one pays for it").isEqualTo(Duration.ofMillis(600));
    }

    @Test
    void theBreakerOpensProbesOnceAndClosesOnSuccess() {
        CircuitBreaker breaker = new CircuitBreaker("test", 2, Duration.ofSeconds(30), clock);
        breaker.failed();
        breaker.succeeded(); // not consecutive
        breaker.failed();
        assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.CLOSED);
        breaker.failed();
        assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.OPEN);
        assertThat(breaker.tryPass()).isFalse();
        assertThat(breaker.untilProbe()).isEqualTo(Duration.ofSeconds(30));

        clock.tick(Duration.ofSeconds(30));
        assertThat(breaker.tryPass()).as("the probe").isTrue();
        assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.HALF_OPEN);
        assertThat(breaker.tryPass()).as("only one probe").isFalse();
        breaker.abandoned();
        assertThat(breaker.tryPass()).as("an abandoned probe gives its turn away").isTrue();
        breaker.succeeded();
        assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.CLOSED);
        assertThat(breaker.tryPass()).isTrue();
    }

    @Test
    void retryAfterReadsSecondsAndHttpDates() {
        Instant now = Instant.parse("2026-05-01T10:00:00Z");
        assertThat(RetryAfter.parse("7", now)).isEqualTo(Duration.ofSeconds(7));
        assertThat(RetryAfter.parse(" 120 ", now)).isEqualTo(Duration.ofMinutes(2));
        assertThat(RetryAfter.parse("Fri, 01 May 2026 10:01:30 GMT", now)).isEqualTo(Duration.ofSeconds(90));
        assertThat(RetryAfter.parse("Fri, 01 May 2026 09:00:00 GMT", now)).isEqualTo(Duration.ZERO);
        assertThat(RetryAfter.parse("soon", now)).isNull();
        assertThat(RetryAfter.parse(null, now)).isNull();
    }

    @Test
    void retriableStatusesAre408And429AndServerErrors() {
        assertThat(Failures.isRetriableStatus(408)).isTrue();
        assertThat(Failures.isRetriableStatus(429)).isTrue();
        assertThat(Failures.isRetriableStatus(500)).isTrue();
        assertThat(Failures.isRetriableStatus(503)).isTrue();
        assertThat(Failures.isRetriableStatus(599)).isTrue();
        assertThat(Failures.isRetriableStatus(400)).isFalse();
        assertThat(Failures.isRetriableStatus(401)).isFalse();
        assertThat(Failures.isRetriableStatus(404)).isFalse();
        assertThat(Failures.isRetriableStatus(422)).isFalse();
        assertThat(Failures.isRetriableStatus(301)).isFalse();
        assertThat(Failures.classifyStatus(502, "HTTP 502").isRetriable()).isTrue();
        assertThat(Failures.classifyStatus(413, "HTTP 413").isRetriable()).isFalse();
    }
}
