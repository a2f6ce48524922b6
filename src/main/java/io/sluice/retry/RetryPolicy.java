package io.sluice.retry;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Predicate;
import java.util.random.RandomGenerator;

/**
 * Sluice's one retry policy: exponential backoff from {@code base} doubling to {@code cap} with "equal jitter" (half
 * the delay fixed, half random, so retries of many clients spread out), and when to give up: after
 * {@code maxAttempts} failed attempts or once the first failure is {@code maxAge} old. Time comes from an injected
 * {@link Clock}. Batch retries, per-event retry chains, the planner's and the violation writer's recovery loops,
 * warehouse schema races and topic set-up all use it.
 */
public record RetryPolicy(Duration base, Duration cap, int maxAttempts, Duration maxAge) {
    /** Background loops that must never give up (the database comes back): 200 ms doubling to 5 s. */
    public static final RetryPolicy RECOVERY =
            new RetryPolicy(Duration.ofMillis(200), Duration.ofSeconds(5), Integer.MAX_VALUE, null);

    public RetryPolicy {
        if (base == null || base.isNegative() || cap == null || cap.compareTo(base) < 0) {
            throw new IllegalArgumentException("retry base must be >= 0 and cap >= base, got " + base + " and " + cap);
        }
        if (maxAttempts < 1) throw new IllegalArgumentException("maxAttempts must be at least 1, got " + maxAttempts);
    }

    /** A policy of at most {@code attempts} tries, without an age limit. */
    public static RetryPolicy attempts(int attempts, Duration base, Duration cap) {
        return new RetryPolicy(base, cap, attempts, null);
    }

    /** Delay before the attempt after {@code failedAttempts} failures (1 = after the first failure). */
    public Duration delay(int failedAttempts) {
        return delay(failedAttempts, ThreadLocalRandom.current());
    }

    public Duration delay(int failedAttempts, RandomGenerator random) {
        int exponent = Math.min(Math.max(failedAttempts - 1, 0), 30);
        long ceiling = Math.min(cap.toMillis(), base.toMillis() << exponent);
        if (ceiling <= 0) ceiling = cap.toMillis();
        long half = ceiling / 2;
        return Duration.ofMillis(half + (half > 0 ? random.nextLong(half + 1) : 0));
    }

    /** When to try again after {@code failedAttempts} failures; a destination's Retry-After wins if it is later. */
    public Instant nextAttempt(int failedAttempts, Duration retryAfter, Instant now) {
        Duration delay = delay(failedAttempts);
        if (retryAfter != null && retryAfter.compareTo(delay) > 0) delay = retryAfter;
        return now.plus(delay);
    }

    /** True when no further attempt may be made after {@code failedAttempts} failures. */
    public boolean exhausted(int failedAttempts, Instant firstFailure, Instant now) {
        return failedAttempts >= maxAttempts || (maxAge != null && !now.isBefore(firstFailure.plus(maxAge)));
    }

    /** The state of one loop that backs off while something it needs is down; see {@link Recovery}. */
    public Recovery recovery(Clock clock) {
        return new Recovery(this, clock);
    }

    /**
     * Runs {@code attempt} until it succeeds, fails with an exception {@code retriable} refuses, or the policy is
     * exhausted (then the last failure is thrown). Between attempts it waits through {@code sleeper}.
     */
    public <T> T call(Clock clock, Sleeper sleeper, Predicate<Exception> retriable, Attempt<T> attempt)
            throws Exception {
        Instant first = null;
        for (int failed = 0; ; ) {
            try {
                return attempt.run(failed + 1);
            } catch (Exception e) {
                if (e instanceof InterruptedException) throw e;
                Instant now = clock.instant();
                if (first == null) first = now;
                failed++;
                if (!retriable.test(e) || exhausted(failed, first, now)) throw e;
                sleeper.sleep(delay(failed));
            }
        }
    }

    /** One try of {@link #call}; {@code attempt} counts from 1. */
    @FunctionalInterface
    public interface Attempt<T> {
        T run(int attempt) throws Exception;
    }

    /** How {@link #call} waits; tests pass one that advances their clock instead of sleeping. */
    @FunctionalInterface
    public interface Sleeper {
        Sleeper THREAD = duration -> Thread.sleep(duration);

        void sleep(Duration duration) throws InterruptedException;
    }
}
