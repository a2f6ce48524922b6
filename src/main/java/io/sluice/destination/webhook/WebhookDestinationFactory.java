package io.sluice.destination.webhook;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import io.sluice.config.SluiceConfig.DestinationSettings;
import io.sluice.destination.Destination;
import io.sluice.destination.DestinationFactory;
import java.time.Clock;

/**
 * Type {@code webhook}: HTTP POST of JSON (docs/webhooks.md). Keys: {@code url}, {@code mode} (event | batch),
 * {@code maxBatchEvents}, {@code headers}, {@code timeout}, {@code secret}, {@code rateLimit}, {@code maxConcurrency},
 * {@code orderPerUser}, {@code maxWait}, {@code circuitBreaker.*}; {@code retry.*} is the
 * worker's. Meters go to Micrometer's global registry unless one is passed to {@link #create(DestinationSettings,
 * MeterRegistry, Clock)}.
 */
public final class WebhookDestinationFactory implements DestinationFactory {

    @Override
    public void validate(DestinationSettings settings) {
        WebhookSettings.from(settings);
    }

    @Override
    public Destination create(DestinationSettings settings) {
        return create(settings, Metrics.globalRegistry, Clock.systemUTC());
    }

    /** With the registry for this destination's meters, and the clock for signatures, the breaker and the rate limit. */
    public Destination create(DestinationSettings settings, MeterRegistry registry, Clock clock) {
        return new WebhookDestination(WebhookSettings.from(settings), registry, clock);
    }
}
