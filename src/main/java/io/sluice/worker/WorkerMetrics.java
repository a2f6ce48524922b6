package io.sluice.worker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.sluice.event.IsoTimestamps;
import io.sluice.queue.RetryStore;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.LoggerFactory;

/** Delivery meters, per sync where it matters. Names are listed in docs/operations.md. */
final class WorkerMetrics {
    private static final TimeUnit MICROS = TimeUnit.MICROSECONDS;
    private final MeterRegistry registry;
    private final Timer endToEnd;
    private final AtomicLong oldestUnfinishedSeconds = new AtomicLong();
    private final AtomicLong oldestRetrySeconds = new AtomicLong();
    private final Map<String, AtomicLong> retryGauges = new ConcurrentHashMap<>();
    private final DeliveryTallies tallies;

    WorkerMetrics(MeterRegistry registry, HeldBatches inFlight) {
        this(registry, inFlight, new DeliveryTallies(null));
    }

    /** @param tallies the delivery accounting kept in the queue database, beside these process-local meters */
    WorkerMetrics(MeterRegistry registry, HeldBatches inFlight, DeliveryTallies tallies) {
        this.registry = registry;
        this.tallies = tallies;
        this.endToEnd = Timer.builder("sluice.delivery.end.to.end")
                .description("From the collector receiving an event to its batch being delivered")
                .publishPercentileHistogram()
                .maximumExpectedValue(Duration.ofMinutes(10))
                .register(registry);
        registry.gauge("sluice.worker.batches.in.flight", inFlight, HeldBatches::size);
        registry.gauge("sluice.queue.oldest.unfinished.seconds", oldestUnfinishedSeconds, AtomicLong::get);
        registry.gauge("sluice.retry.oldest.pending.seconds", oldestRetrySeconds, AtomicLong::get);
    }

    DeliveryTallies tallies() {
        return tallies;
    }

    void delivered(String syncId, List<ObjectNode> events, long nanos, Instant now) {
        Counter.builder("sluice.delivery.batches")
                .tag("sync", syncId)
                .tag("outcome", "delivered")
                .register(registry)
                .increment();
        Timer.builder("sluice.delivery.batch")
                .tag("sync", syncId)
                .description("Reading a batch back and delivering it")
                .register(registry)
                .record(nanos, TimeUnit.NANOSECONDS);
        eventsDelivered(syncId, events, now);
    }

    /** Events delivered, by a completed batch or by an attempt that leaves the rest of its batch for later. */
    void eventsDelivered(String syncId, List<ObjectNode> events, Instant now) {
        Counter.builder("sluice.delivery.events")
                .tag("sync", syncId)
                .register(registry)
                .increment(events.size());
        long nowMicros = now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000;
        for (ObjectNode event : events) {
            long at = receivedAtMicros(event);
            if (at != NO_TIME) endToEnd.record(nowMicros - at, MICROS);
        }
    }

    /** What {@link #receivedAtMicros} returns for an event without a readable receivedAt. */
    static final long NO_TIME = Long.MIN_VALUE;

    /**
     * The event's receivedAt in microseconds since the Unix epoch: the collector's own shape by hand and without an
     * {@link Instant} (Instant.parse was 5 % of the worker's CPU), else parsed; {@link #NO_TIME} when absent or not a
     * timestamp.
     */
    static long receivedAtMicros(ObjectNode event) {
        JsonNode node = event.get("receivedAt");
        if (node == null) return NO_TIME;
        String text = node.asText();
        long fast = IsoTimestamps.parseCommonMicros(text);
        if (fast != IsoTimestamps.NOT_COMMON && fast != IsoTimestamps.FINER_THAN_MICROS) return fast;
        try {
            Instant at = Instant.parse(text);
            return Math.addExact(Math.multiplyExact(at.getEpochSecond(), 1_000_000L), at.getNano() / 1_000);
        } catch (RuntimeException e) {
            return NO_TIME; // not a timestamp we wrote (or beyond microseconds' range); skip it
        }
    }

    void eventsRetried(String syncId, int count) {
        Counter.builder("sluice.delivery.events.retried")
                .description("Events handed to the retry queue")
                .tag("sync", syncId)
                .register(registry)
                .increment(count);
    }

    void eventsDeadLettered(String syncId, int count) {
        Counter.builder("sluice.delivery.events.dead")
                .description("Events moved to the dead letters")
                .tag("sync", syncId)
                .register(registry)
                .increment(count);
    }

    /** Age of the oldest event waiting in the retry queue (0 when empty). */
    /**
     * Per sync (tagged with its destination): {@code sluice.retry.queue.depth} events waiting in the retry queue and
     * {@code sluice.retry.queue.oldest.seconds} since the oldest of them first failed. Syncs not in {@code depths} read 0.
     */
    void retryQueue(Map<String, String> destinationOfSync, Map<String, RetryStore.Depth> depths, Instant now) {
        destinationOfSync.forEach((sync, destination) -> {
            RetryStore.Depth depth = depths.get(sync);
            retryGauge("sluice.retry.queue.depth", sync, destination).set(depth == null ? 0 : depth.events());
            retryGauge("sluice.retry.queue.oldest.seconds", sync, destination)
                    .set(
                            depth == null
                                    ? 0
                                    : Math.max(
                                            0,
                                            Duration.between(depth.oldestFailure(), now)
                                                    .toSeconds()));
        });
    }

    private AtomicLong retryGauge(String name, String sync, String destination) {
        return retryGauges.computeIfAbsent(name + "|" + sync, k -> {
            AtomicLong value = new AtomicLong();
            Gauge.builder(name, value, AtomicLong::get)
                    .tag("sync", sync)
                    .tag("destination", destination)
                    .strongReference(true)
                    .register(registry);
            return value;
        });
    }

    void oldestRetry(Instant oldest, Instant now) {
        oldestRetrySeconds.set(
                oldest == null ? 0 : Duration.between(oldest, now).toSeconds());
    }

    void retried(String syncId) {
        Counter.builder("sluice.delivery.batches")
                .tag("sync", syncId)
                .tag("outcome", "retried")
                .register(registry)
                .increment();
    }

    void deadLettered(String syncId) {
        Counter.builder("sluice.delivery.batches")
                .tag("sync", syncId)
                .tag("outcome", "dead")
                .register(registry)
                .increment();
    }

    /**
     * Updates the queue-age gauge; warns when the oldest undelivered batch has waited half the topic's retention,
     * because once Kafka deletes its offsets its events cannot be read back.
     */
    void oldestUnfinished(Instant oldest, Instant now, Duration retention) {
        Duration age = oldest == null ? Duration.ZERO : Duration.between(oldest, now);
        oldestUnfinishedSeconds.set(age.toSeconds());
        if (retention != null && age.compareTo(retention.dividedBy(2)) > 0) {
            LoggerFactory.getLogger(Worker.class)
                    .warn(
                            "The oldest undelivered batch has waited {} of the events topic's {} retention; "
                                    + "deliver or dead-letter it before Kafka deletes its events",
                            age,
                            retention);
        }
    }

    /** Batch rows delivered together: 1 while the worker keeps up, up to {@code Worker.RUN_BATCHES} under backlog. */
    void run(String syncId, int batches) {
        DistributionSummary.builder("sluice.delivery.run.batches")
                .description("Batch rows delivered together in one delivery (a backlog's runs)")
                .tag("sync", syncId)
                .register(registry)
                .record(batches);
    }
}
