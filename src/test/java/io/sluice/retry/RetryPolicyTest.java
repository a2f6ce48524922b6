package io.sluice.retry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.support.MutableClock;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class RetryPolicyTest {
    private final RetryPolicy policy =
            new RetryPolicy(Duration.ofSeconds(1), Duration.ofSeconds(10), 4, Duration.ofMinutes(1));

    @Test
    void delaysDoubleToTheCapWithEqualJitter() {
        var random = new SplittableRandom(7);
        for (int attempt = 1; attempt <= 8; attempt++) {
            long ceiling = Math.min(10_000, 1_000L << (attempt - 1));
            for (int i = 0; i < 50; i++) {
                assertThat(policy.delay(attempt, random).toMillis()).isBetween(ceiling / 2, ceiling);
            }
        }
    }

    @Test
    void retryAfterWinsWhenLater() {
        Instant now = Instant.parse("2026-01-01T00:00:00Z");
        assertThat(policy.nextAttempt(1, Duration.ofSeconds(30), now)).isEqualTo(now.plusSeconds(30));
        assertThat(policy.nextAttempt(1, Duration.ofMillis(1), now)).isBetween(now.plusMillis(500), now.plusSeconds(1));
    }

    @Test
    void exhaustedByAttemptsOrAge() {
        Instant first = Instant.parse("2026-01-01T00:00:00Z");
        assertThat(policy.exhausted(3, first, first.plusSeconds(59))).isFalse();
        assertThat(policy.exhausted(4, first, first)).isTrue();
        assertThat(policy.exhausted(1, first, first.plusSeconds(60))).isTrue();
        assertThat(RetryPolicy.RECOVERY.exhausted(1_000_000, first, first.plus(Duration.ofDays(365))))
                .isFalse();
    }

    @Test
    void callRetriesWhatIsRetriableOnTheInjectedClock() throws Exception {
        MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
        List<Duration> waits = new ArrayList<>();
        RetryPolicy.Sleeper advance = d -> {
            waits.add(d);
            clock.tick(d);
        };
        String result = policy.call(clock, advance, e -> e instanceof IOException, attempt -> {
            if (attempt < 3) throw new IOException("try " + attempt);
            return "ok after " + attempt;
        });
        assertThat(result).isEqualTo("ok after 3");
        assertThat(waits).hasSize(2);

        assertThatThrownBy(() -> policy.call(clock, advance, e -> e instanceof IOException, attempt -> {
                    throw new IOException("always");
                }))
                .hasMessage("always");
        assertThat(waits).hasSize(2 + 3); // four attempts, three waits

        assertThatThrownBy(() -> policy.call(clock, advance, e -> e instanceof IOException, attempt -> {
                    throw new IllegalStateException("not retriable");
                }))
                .hasMessage("not retriable");
        assertThat(waits).hasSize(5);
    }

    @Test
    void recoveryIsDueOnlyAfterItsDelay() {
        MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
        Recovery recovery = RetryPolicy.RECOVERY.recovery(clock);
        assertThat(recovery.due()).isTrue();
        Duration delay = recovery.failed();
        assertThat(recovery.due()).isFalse();
        clock.tick(delay);
        assertThat(recovery.due()).isTrue();
        assertThat(recovery.succeeded()).isTrue();
        assertThat(recovery.succeeded()).isFalse();
        assertThat(recovery.failures()).isZero();
    }
}
