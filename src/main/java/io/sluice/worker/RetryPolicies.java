package io.sluice.worker;

import io.sluice.config.SluiceConfig.DestinationSettings;
import io.sluice.config.SluiceConfig.WorkerSettings;
import io.sluice.retry.RetryPolicy;

/**
 * Which {@link RetryPolicy} a destination's failures follow, for whole batches and single events alike: the
 * destination's own {@code retry} section where its type has one (webhook, kafka), else the worker's defaults
 * ({@code worker.retryBase}, {@code retryCap}, {@code maxAttempts}, {@code maxRetryAge}).
 */
final class RetryPolicies {
    private RetryPolicies() {}

    static RetryPolicy of(DestinationSettings destination, WorkerSettings worker) {
        if (destination.get("retry.base") == null) return workerDefaults(worker);
        return new RetryPolicy(
                destination.get("retry.base"),
                destination.get("retry.cap"),
                destination.<Integer>get("retry.maxAttempts"),
                destination.get("retry.maxAge"));
    }

    /** The worker's own policy: for destinations without a {@code retry} section. */
    static RetryPolicy workerDefaults(WorkerSettings worker) {
        return new RetryPolicy(worker.retryBase(), worker.retryCap(), worker.maxAttempts(), worker.maxRetryAge());
    }
}
