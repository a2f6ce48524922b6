package io.sluice.collector;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;

/** The collector's meters; names are documented in docs/operations.md. */
final class CollectorMetrics {
    private final MeterRegistry registry;
    final Timer produceLatency;

    CollectorMetrics(MeterRegistry registry) {
        this.registry = registry;
        this.produceLatency = Timer.builder("sluice.collector.kafka.produce")
                .description("Time from the first send of a request's events to Kafka acknowledging all of them")
                .publishPercentileHistogram()
                .maximumExpectedValue(Duration.ofSeconds(10))
                .register(registry);
    }

    void request(String source, String outcome, int events, long nanos, long bytes) {
        Counter.builder("sluice.collector.requests").description("HTTP requests by source and outcome")
                .tag("source", source).tag("outcome", outcome).register(registry).increment();
        if (events > 0) {
            Counter.builder("sluice.collector.events").description("Events by source and outcome")
                    .tag("source", source).tag("outcome", outcome).register(registry).increment(events);
        }
        Timer.builder("sluice.collector.request").description("Request latency from arrival to response")
                .tag("outcome", outcome).publishPercentileHistogram().maximumExpectedValue(Duration.ofSeconds(10))
                .register(registry).record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
        DistributionSummary.builder("sluice.collector.payload").baseUnit("bytes")
                .description("Request payload size after decompression").tag("source", source)
                .register(registry).record(bytes);
    }

    void rejected(String reason, int events) {
        Counter.builder("sluice.collector.rejected.events").description("Events rejected, by reason")
                .tag("reason", reason).register(registry).increment(Math.max(1, events));
    }
}
