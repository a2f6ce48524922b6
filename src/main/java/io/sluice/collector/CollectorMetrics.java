package io.sluice.collector;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The collector's meters; names are documented in docs/operations.md. Meters are looked up once per (source,
 * outcome) and kept: building them per request showed up on the hot path. Tag values are bounded (configured
 * sources, fixed outcomes and rule names).
 */
final class CollectorMetrics {
    private final MeterRegistry registry;
    private final Map<String, RequestMeters> bySourceAndOutcome = new ConcurrentHashMap<>();
    private final Map<String, Counter> rejectedByReason = new ConcurrentHashMap<>();
    final Timer produceLatency;

    private record RequestMeters(Counter requests, Counter events, Timer latency, DistributionSummary payload) {}

    CollectorMetrics(MeterRegistry registry) {
        this.registry = registry;
        this.produceLatency = Timer.builder("sluice.collector.kafka.produce")
                .description("Time from the first send of a request's events to Kafka acknowledging all of them")
                .publishPercentileHistogram()
                .maximumExpectedValue(Duration.ofSeconds(10))
                .register(registry);
    }

    void request(String source, String outcome, int events, long nanos, long bytes) {
        RequestMeters meters = bySourceAndOutcome.computeIfAbsent(
                source + ':' + outcome,
                key -> new RequestMeters(
                        Counter.builder("sluice.collector.requests")
                                .description("HTTP requests by source and outcome")
                                .tag("source", source)
                                .tag("outcome", outcome)
                                .register(registry),
                        Counter.builder("sluice.collector.events")
                                .description("Events by source and outcome")
                                .tag("source", source)
                                .tag("outcome", outcome)
                                .register(registry),
                        Timer.builder("sluice.collector.request")
                                .description("Request latency from arrival to response")
                                .tag("outcome", outcome)
                                .publishPercentileHistogram()
                                .maximumExpectedValue(Duration.ofSeconds(10))
                                .register(registry),
                        DistributionSummary.builder("sluice.collector.payload")
                                .baseUnit("bytes")
                                .description("Request payload size after decompression")
                                .tag("source", source)
                                .register(registry)));
        meters.requests().increment();
        if (events > 0) meters.events().increment(events);
        meters.latency().record(nanos, TimeUnit.NANOSECONDS);
        meters.payload().record(bytes);
    }

    void rejected(String reason, int events) {
        rejectedByReason
                .computeIfAbsent(
                        reason,
                        r -> Counter.builder("sluice.collector.rejected.events")
                                .description("Events rejected, by reason")
                                .tag("reason", r)
                                .register(registry))
                .increment(Math.max(1, events));
    }
}
