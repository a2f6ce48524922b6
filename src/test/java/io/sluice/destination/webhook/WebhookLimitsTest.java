package io.sluice.destination.webhook;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.delivery.FailureClass;
import io.sluice.delivery.Failures;
import io.sluice.support.MutableClock;
import java.io.IOException;
import java.net.ConnectException;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.time.Instant;
import javax.net.ssl.SSLHandshakeException;
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
        assertThat(limiter.reserve(5, bound))
                .as("a large request waits its turn only")
                .isEqualTo(Duration.ofMillis(100));
        assertThat(limiter.reserve(1, Duration.ofSeconds(1)))
                .as("the next one pays for it")
                .isEqualTo(Duration.ofMillis(600));
    }

    private static final WebhookSettings.Breaker SMALL =
            new WebhookSettings.Breaker(10, 4, 50, 90, 3, Duration.ofSeconds(30));

    @Test
    void unreachableAndUnresponsiveRequestsOpenTheCircuitAtTheFailureRate() {
        CircuitBreaker breaker = new CircuitBreaker("test", SMALL, clock);
        breaker.tryPass().record(FailureClass.UNREACHABLE);
        breaker.tryPass().record(FailureClass.UNRESPONSIVE);
        breaker.tryPass().record(null);
        assertThat(breaker.state()).as("fewer than the minimum calls").isEqualTo(CircuitBreaker.State.CLOSED);
        breaker.tryPass().record(FailureClass.UNREACHABLE); // 3 of 4
        assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.OPEN);
        assertThat(breaker.tryPass()).as("fails fast").isNull();
        assertThat(breaker.untilProbe()).isEqualTo(Duration.ofSeconds(30));

        clock.tick(Duration.ofMillis(30_001)); // resilience4j: strictly after the cool-down
        CircuitBreaker.Permit[] probes = {breaker.tryPass(), breaker.tryPass(), breaker.tryPass()};
        assertThat(probes).as("several probes").doesNotContainNull();
        assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.HALF_OPEN);
        assertThat(breaker.tryPass()).as("no more than the probes").isNull();
        probes[0].abandon();
        CircuitBreaker.Permit again = breaker.tryPass();
        assertThat(again).as("an abandoned probe gives its turn away").isNotNull();
        again.record(null);
        probes[1].record(null);
        probes[2].record(FailureClass.RESPONSIVE_ERROR); // an answer: the destination is up
        assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.CLOSED);
    }

    @Test
    void responsiveErrorsOpenOnlyAtAHighErrorRateAndBackpressureNeverCounts() {
        CircuitBreaker breaker = new CircuitBreaker("test", SMALL, clock);
        for (int i = 0; i < 40; i++) {
            CircuitBreaker.Permit permit = breaker.tryPass();
            assertThat(permit).as("request " + i).isNotNull();
            // the flaky receiver: 500, then 429, then 200, over and over
            permit.record(i % 3 == 0 ? FailureClass.RESPONSIVE_ERROR : i % 3 == 1 ? FailureClass.BACKPRESSURE : null);
        }
        for (int i = 0; i < 20; i++) breaker.tryPass().record(FailureClass.BACKPRESSURE);
        assertThat(breaker.state()).as("50% errors, and any number of 429s").isEqualTo(CircuitBreaker.State.CLOSED);
        for (int i = 0; i < 10 && breaker.state() == CircuitBreaker.State.CLOSED; i++)
            breaker.tryPass().record(FailureClass.RESPONSIVE_ERROR);
        assertThat(breaker.state()).as("100% 500s").isEqualTo(CircuitBreaker.State.OPEN);
    }

    @Test
    void theConcurrencyLimitHalvesOnThrottlesOncePerIntervalAndGrowsBackOnSuccess() throws Exception {
        ConcurrencyLimit limit = new ConcurrencyLimit("test", 8, Duration.ofSeconds(1), clock);
        assertThat(limit.current()).isEqualTo(8);
        for (int i = 0; i < 8; i++) assertThat(limit.tryAcquire(Duration.ZERO)).isTrue();
        assertThat(limit.tryAcquire(Duration.ZERO))
                .as("its own slots are bounded")
                .isFalse();
        limit.release(false, true);
        limit.release(false, true); // the same round of requests: one decrease
        assertThat(limit.current()).isEqualTo(4);
        clock.tick(Duration.ofSeconds(1));
        limit.release(false, true);
        assertThat(limit.current()).isEqualTo(2);
        assertThat(limit.tryAcquire(Duration.ZERO)).as("5 in flight, limit 2").isFalse();
        for (int i = 0; i < 5; i++) limit.release(true, false);
        assertThat(limit.inFlight()).isZero();
        assertThat(limit.current()).as("additive increase: 1/limit per success").isEqualTo(3);
        for (int i = 0; i < 100; i++) {
            limit.tryAcquire(Duration.ZERO);
            limit.release(true, false);
        }
        assertThat(limit.current()).as("never above the maximum").isEqualTo(8);
    }

    @Test
    void failureClassesAreDecidedInOnePlace() {
        assertThat(Failures.ofStatus(500)).isEqualTo(FailureClass.RESPONSIVE_ERROR);
        assertThat(Failures.ofStatus(502)).isEqualTo(FailureClass.RESPONSIVE_ERROR);
        assertThat(Failures.ofStatus(408)).isEqualTo(FailureClass.RESPONSIVE_ERROR);
        assertThat(Failures.ofStatus(429)).isEqualTo(FailureClass.BACKPRESSURE);
        assertThat(Failures.ofStatus(503)).isEqualTo(FailureClass.BACKPRESSURE);
        assertThat(Failures.ofStatus(400)).isEqualTo(FailureClass.EVENT_DATA);
        assertThat(Failures.ofStatus(401)).isEqualTo(FailureClass.PERMANENT);
        assertThat(Failures.ofExchange(new ConnectException("refused"))).isEqualTo(FailureClass.UNREACHABLE);
        assertThat(Failures.ofExchange(new HttpConnectTimeoutException("connect")))
                .isEqualTo(FailureClass.UNREACHABLE);
        assertThat(Failures.ofExchange(new IOException("x", new SSLHandshakeException("tls"))))
                .isEqualTo(FailureClass.UNREACHABLE);
        assertThat(Failures.ofExchange(new HttpTimeoutException("request timed out")))
                .isEqualTo(FailureClass.UNRESPONSIVE);
        assertThat(Failures.ofExchange(new IOException("connection reset"))).isEqualTo(FailureClass.UNRESPONSIVE);
        assertThat(FailureClass.BACKPRESSURE.usesAttempt()).isFalse();
        assertThat(FailureClass.NOT_SENT.usesAttempt()).isFalse();
        assertThat(FailureClass.RESPONSIVE_ERROR.usesAttempt()).isTrue();
        assertThat(FailureClass.RESPONSIVE_ERROR.destinationDown()).isFalse();
        assertThat(FailureClass.UNREACHABLE.destinationDown()).isTrue();
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
