package io.sluice.worker;

import java.time.Duration;
import java.util.random.RandomGenerator;

/** Exponential backoff with "equal jitter": half the delay fixed, half random, so retries spread out. */
final class Backoff {
    private final Duration base;
    private final Duration cap;
    private final RandomGenerator random;

    Backoff(Duration base, Duration cap, RandomGenerator random) {
        this.base = base;
        this.cap = cap;
        this.random = random;
    }

    /** Delay before the attempt after {@code failedAttempts} failures (1 = after the first failure). */
    Duration delay(int failedAttempts) {
        int exponent = Math.min(Math.max(failedAttempts - 1, 0), 30);
        long ceiling = Math.min(cap.toMillis(), base.toMillis() << exponent);
        if (ceiling <= 0) ceiling = cap.toMillis();
        long half = ceiling / 2;
        return Duration.ofMillis(half + (half > 0 ? random.nextLong(half + 1) : 0));
    }
}
