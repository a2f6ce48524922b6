package io.sluice.worker;

import io.sluice.config.SluiceConfig.DestinationSettings;
import io.sluice.config.SluiceConfig.RetrySettings;
import io.sluice.config.SluiceConfig.WorkerSettings;
import io.sluice.retry.RetryPolicy;

/**
 * Which {@link RetryPolicy} a destination's failures follow, for whole batches and single events alike: the
 * destination's own {@code retry} section where its type has one (webhook, kafka), else the worker's defaults
 * ({@code worker.retryBase}, {@code retryCap}, {@code maxAttempts}, {@code maxRetryAge}). The configuration step
 * already refused a cap below its base, naming the key.
 */
final class RetryPolicies {
    private RetryPolicies() {}

    static RetryPolicy of(DestinationSettings destination, WorkerSettings worker) {
        return switch (destination) {
            case DestinationSettings.Webhook webhook -> own(webhook.retry());
            case DestinationSettings.Kafka kafka -> own(kafka.retry());
            case DestinationSettings.Warehouse warehouse -> workerDefaults(worker);
        };
    }

    private static RetryPolicy own(RetrySettings retry) {
        return new RetryPolicy(retry.base(), retry.cap(), retry.maxAttempts(), retry.maxAge());
    }

    /** The worker's own policy: for destinations without a {@code retry} section. */
    static RetryPolicy workerDefaults(WorkerSettings worker) {
        return new RetryPolicy(worker.retryBase(), worker.retryCap(), worker.maxAttempts(), worker.maxRetryAge());
    }
}
