package io.sluice.destination.webhook;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One webhook destination's meters, all tagged {@code destination} (names in docs/webhooks.md):
 * {@code sluice.webhook.requests} by {@code outcome} (2xx, 3xx, 4xx, 5xx, timeout, error), the
 * {@code sluice.webhook.latency} timer, {@code sluice.webhook.in.flight}, {@code sluice.webhook.circuit.state}
 * (0 closed, 1 open, 2 half-open) and {@code sluice.webhook.rejected} by {@code reason} (requests never sent:
 * circuit_open, paused, busy, rate_limited), {@code sluice.webhook.concurrency.limit} (the current AIMD limit) and
 * {@code sluice.webhook.backpressure.waits} (Retry-After pauses asked for, a timer of their lengths).
 */
final class WebhookMetrics {
    private final MeterRegistry registry;
    private final String destination;
    private final Timer latency;
    private final Map<String, Counter> counters = new ConcurrentHashMap<>();
    private final List<Meter> gauges;
    private final Timer backpressure;

    WebhookMetrics(
            MeterRegistry registry,
            String destination,
            AtomicInteger inFlight,
            CircuitBreaker breaker,
            ConcurrencyLimit limit) {
        this.registry = registry;
        this.destination = destination;
        this.latency = Timer.builder("sluice.webhook.latency")
                .tag("destination", destination)
                .description("Webhook request latency, from sending to the response (or the failure)")
                .publishPercentileHistogram()
                .maximumExpectedValue(Duration.ofMinutes(1))
                .register(registry);
        this.gauges = List.of(
                Gauge.builder("sluice.webhook.in.flight", inFlight, AtomicInteger::get)
                        .tag("destination", destination)
                        .description("Webhook requests currently in flight")
                        .strongReference(true)
                        .register(registry),
                Gauge.builder("sluice.webhook.circuit.state", breaker, b -> b.state().gauge)
                        .tag("destination", destination)
                        .description("Circuit breaker: 0 closed, 1 open, 2 half-open")
                        .strongReference(true)
                        .register(registry),
                Gauge.builder("sluice.webhook.concurrency.limit", limit, ConcurrencyLimit::current)
                        .tag("destination", destination)
                        .description(
                                "Requests the destination may have in flight now (AIMD: +1 per round of successes, halved on 429/503)")
                        .strongReference(true)
                        .register(registry));
        this.backpressure = Timer.builder("sluice.webhook.backpressure.waits")
                .tag("destination", destination)
                .description("Pauses of the whole destination asked for by Retry-After")
                .register(registry);
    }

    void request(String outcome, long nanos) {
        latency.record(nanos, TimeUnit.NANOSECONDS);
        counter("sluice.webhook.requests", "outcome", outcome).increment();
    }

    void backpressureWait(Duration wait) {
        backpressure.record(wait);
    }

    void rejected(String reason) {
        counter("sluice.webhook.rejected", "reason", reason).increment();
    }

    static String outcome(int status) {
        return status >= 200 && status <= 599 ? (status / 100) + "xx" : "other";
    }

    /** Removes this destination's meters (a destination re-created under the same id starts afresh). */
    void close() {
        registry.remove(latency);
        registry.remove(backpressure);
        gauges.forEach(registry::remove);
        counters.values().forEach(registry::remove);
    }

    private Counter counter(String name, String tag, String value) {
        return counters.computeIfAbsent(
                name + "|" + value,
                k -> Counter.builder(name)
                        .tag("destination", destination)
                        .tag(tag, value)
                        .register(registry));
    }
}
