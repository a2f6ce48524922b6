package io.sluice.retry;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/**
 * Backoff state of a loop that keeps running while a dependency is down (the planner, the violation writer, the
 * worker's claim loop): {@link #failed()} schedules the next try by the {@link RetryPolicy}, {@link #due()} says
 * whether it has come, {@link #succeeded()} resets. Not thread-safe: one loop owns it.
 */
public final class Recovery {
    private final RetryPolicy policy;
    private final Clock clock;
    private int failures;
    private Instant retryAt = Instant.MIN;

    Recovery(RetryPolicy policy, Clock clock) {
        this.policy = policy;
        this.clock = clock;
    }

    /** Records a failure; returns the delay until the next try. */
    public Duration failed() {
        failures = failures == Integer.MAX_VALUE ? failures : failures + 1;
        Duration delay = policy.delay(failures);
        retryAt = clock.instant().plus(delay);
        return delay;
    }

    /**
     * Records a failure that cost nothing (refused in this process, e.g. queue writes held by its gate): the next
     * try comes after at most {@code atMost}, so the loop goes on within moments of the refusal ending.
     */
    public Duration failed(Duration atMost) {
        failures = failures == Integer.MAX_VALUE ? failures : failures + 1;
        Duration delay = policy.delay(failures);
        if (delay.compareTo(atMost) > 0) delay = atMost;
        retryAt = clock.instant().plus(delay);
        return delay;
    }

    /** Records a success; true when it ends a run of failures (worth one log line). */
    public boolean succeeded() {
        boolean recovered = failures > 0;
        failures = 0;
        retryAt = Instant.MIN;
        return recovered;
    }

    /** True when no failure is pending or its delay has passed. */
    public boolean due() {
        return !clock.instant().isBefore(retryAt);
    }

    /** Failures since the last success (0: healthy). */
    public int failures() {
        return failures;
    }

    /** True when the delay has reached the policy's cap (for "still failing" log lines). */
    public boolean atCap() {
        return failures > 0
                && (policy.base().toMillis() << Math.min(failures - 1, 30))
                        >= policy.cap().toMillis();
    }
}
