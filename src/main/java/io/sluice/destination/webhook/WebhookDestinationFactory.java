package io.sluice.destination.webhook;

import io.sluice.config.SluiceConfig.DestinationSettings;
import io.sluice.destination.Destination;
import io.sluice.destination.DestinationContext;
import io.sluice.destination.DestinationFactory;

/**
 * Type {@code webhook}: HTTP POST of JSON (docs/webhooks.md). Keys: {@code url}, {@code mode} (event | batch),
 * {@code maxBatchEvents}, {@code headers}, {@code timeout}, {@code secret}, {@code rateLimit}, {@code maxConcurrency},
 * {@code orderPerUser}, {@code maxWait}, {@code circuitBreaker.*}; {@code retry.*} is the worker's. Its meters go to
 * the process's registry and its clock (signatures, the breaker, the rate limit) is the process's clock, both from
 * the {@link DestinationContext}.
 */
public final class WebhookDestinationFactory implements DestinationFactory<DestinationSettings.Webhook> {

    @Override
    public void validate(DestinationSettings.Webhook settings) {
        WebhookSettings.from(settings);
    }

    @Override
    public Destination create(DestinationSettings.Webhook settings, DestinationContext context) {
        return new WebhookDestination(WebhookSettings.from(settings), context.registry(), context.clock())
                .withDeletionUrl(settings.deletionUrl(), context.clock());
    }
}
