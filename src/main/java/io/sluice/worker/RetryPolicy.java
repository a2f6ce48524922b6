package io.sluice.worker;

import io.sluice.config.SluiceConfig.DestinationSettings;
import io.sluice.config.SluiceConfig.WorkerSettings;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ThreadLocalRandom;

/**
 * How a destination's failures are retried: backoff (base doubling to cap, with jitter) and when to give up
 * (attempts or age). A destination's own {@code retry} settings win over the worker's defaults.
 */
record RetryPolicy(Duration base, Duration cap, int maxAttempts, Duration maxAge) {

    static RetryPolicy of(DestinationSettings destination, WorkerSettings worker) {
        Duration base = destination.get("retry.base");
        if (base == null) return new RetryPolicy(worker.retryBase(), worker.retryCap(), worker.maxAttempts(), worker.maxRetryAge());
        return new RetryPolicy(base, destination.get("retry.cap"), destination.<Integer>get("retry.maxAttempts"), destination.get("retry.maxAge"));
    }

    /** When to try again after {@code failedAttempts} failures; a destination's Retry-After is honoured if later. */
    Instant nextAttempt(int failedAttempts, Duration retryAfter, Instant now) {
        Duration delay = new Backoff(base, cap, ThreadLocalRandom.current()).delay(failedAttempts);
        if (retryAfter != null && retryAfter.compareTo(delay) > 0) delay = retryAfter;
        return now.plus(delay);
    }

    boolean exhausted(int failedAttempts, Instant firstFailure, Instant now) {
        return failedAttempts >= maxAttempts || !now.isBefore(firstFailure.plus(maxAge));
    }
}
