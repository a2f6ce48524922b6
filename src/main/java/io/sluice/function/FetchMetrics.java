package io.sluice.function;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * A sync's fetch meters (docs/functions.md): calls by allowlist entry ({@code host}, so wildcards do not multiply
 * series) and outcome, their latency, cache hits and misses, and batches that waited for a failing service.
 */
final class FetchMetrics {
    /** How a call ended: answered (any status), answered with a failure status, failed without answer, refused. */
    enum Outcome {
        OK,
        HTTP_ERROR,
        FAILED,
        REFUSED
    }

    private final MeterRegistry registry;
    private final String syncId;
    private final Map<String, Counter> counters = new ConcurrentHashMap<>();
    private final Map<String, Timer> timers = new ConcurrentHashMap<>();
    private final Counter dependencyWaits;

    FetchMetrics(MeterRegistry registry, String syncId) {
        this.registry = registry;
        this.syncId = syncId;
        this.dependencyWaits = Counter.builder("sluice.function.dependency.waits")
                .tag("sync", syncId)
                .description("Batches that waited as a whole because a service the function calls was failing")
                .register(registry);
    }

    void call(String host, Outcome outcome, long nanos) {
        String name = outcome.name().toLowerCase(java.util.Locale.ROOT);
        counters.computeIfAbsent(
                        "call/" + host + "/" + name,
                        k -> Counter.builder("sluice.function.fetch.calls")
                                .tag("sync", syncId)
                                .tag("host", host)
                                .tag("outcome", name)
                                .description("Calls of fetch by the sync's function, by allowed host and outcome")
                                .register(registry))
                .increment();
        if (outcome == Outcome.REFUSED) return;
        timers.computeIfAbsent(
                        host,
                        k -> Timer.builder("sluice.function.fetch.time")
                                .tag("sync", syncId)
                                .tag("host", host)
                                .description("Time of one fetch call (redirects included)")
                                .register(registry))
                .record(nanos, TimeUnit.NANOSECONDS);
    }

    void cache(String host, boolean hit) {
        String result = hit ? "hit" : "miss";
        counters.computeIfAbsent(
                        "cache/" + host + "/" + result,
                        k -> Counter.builder("sluice.function.fetch.cache")
                                .tag("sync", syncId)
                                .tag("host", host)
                                .tag("result", result)
                                .description("GET calls answered from the sync's fetch cache (hit) or sent (miss)")
                                .register(registry))
                .increment();
    }

    void dependencyWait() {
        dependencyWaits.increment();
    }
}
