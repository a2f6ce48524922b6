package io.sluice.bench;

import java.util.Map;

/**
 * One measured phase. {@code ok} counts what succeeded inside the measured window: HTTP 200 responses, or records
 * Kafka acknowledged for the raw producer. Latency is of those only (request written to response read; for the
 * raw producer, send() to acknowledgement).
 *
 * @param non200   HTTP status -> responses with that status inside the window
 * @param errors   connection errors, or records Kafka failed
 * @param unfinished requests still unanswered when the bounded drain after the window ran out
 */
record PhaseResult(
        String name,
        int clients,
        int eventsPerRequest,
        double seconds,
        long ok,
        Map<Integer, Long> non200,
        long errors,
        long unfinished,
        LatencyHistogram latencyMicros,
        ResourceMonitor.Usage usage) {

    double requestsPerSecond() {
        return ok / seconds;
    }

    double eventsPerSecond() {
        return ok * (double) eventsPerRequest / seconds;
    }

    /** Events per second of CPU this whole process used: throughput normalised for the cores it actually got. */
    double eventsPerCoreSecond() {
        return eventsPerSecond() / usage.processCores();
    }

    long non200Total() {
        return non200.values().stream().mapToLong(Long::longValue).sum();
    }

    double latencyMillis(double percentile) {
        return latencyMicros.count() == 0 ? Double.NaN : latencyMicros.percentile(percentile) / 1000.0;
    }

    double maxLatencyMillis() {
        return latencyMicros.count() == 0 ? Double.NaN : latencyMicros.max() / 1000.0;
    }
}
