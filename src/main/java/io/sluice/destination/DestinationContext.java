package io.sluice.destination;

import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;

/**
 * What a destination gets from the process that creates it: what {@code embedded} means here, the process's one
 * meter registry and its one clock (both built in the composition root, so tests can inject their own).
 */
public record DestinationContext(OwnInfrastructure own, MeterRegistry registry, Clock clock) {

    /** Without embedded infrastructure (tools and tests of a single destination). */
    public static DestinationContext of(MeterRegistry registry, Clock clock) {
        return new DestinationContext(OwnInfrastructure.NONE, registry, clock);
    }
}
