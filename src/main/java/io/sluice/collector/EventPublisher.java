package io.sluice.collector;

import io.micrometer.core.instrument.Timer;
import io.sluice.config.SluiceConfig.CollectorSettings;
import io.sluice.event.RoutingHeaders;
import io.sluice.kafka.KafkaClients;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.utils.ByteBufferOutputStream;
import org.slf4j.LoggerFactory;

/**
 * Writes a request's events to the events topic with the idempotent producer and {@code acks=all}. The returned
 * future completes only when Kafka acknowledged every record, or fails with the first error: the collector
 * answers 200 on the former only.
 */
public final class EventPublisher implements AutoCloseable {

    /** One serialised event ready for Kafka. */
    /** One record: key {@code source:user}, the event's JSON, and its routing headers ({@link RoutingHeaders}). */
    public record OutgoingEvent(String key, byte[] value, List<Header> headers) {}

    /**
     * The events' producer compression: snappy, measured against lz4, zstd and none (docs/decisions.md, "The
     * collector's producer compression"): the same CPU as lz4 at 20,000 events/s, but lz4 allocates a 64 KB block
     * and a 64 KB output buffer for every producer batch (4-10 KB per event in small batches, the largest allocation
     * site of the process) where snappy recycles its buffers. snappy is native only (snappy-java extracts its
     * library to java.io.tmpdir): where it cannot load (a noexec /tmp, an unknown platform) lz4, which has a pure
     * Java fallback, is used instead, with a warning, rather than failing every request.
     */
    static final String COMPRESSION = snappyLoads() ? "snappy" : "lz4";

    /** The least {@code delivery.timeout.ms}; from there on it is the ack timeout. */
    static final long MIN_DELIVERY_TIMEOUT_MS = 2_000;

    private final KafkaProducer<byte[], byte[]> producer;
    private final String topic;
    private final Timer produceLatency;

    public EventPublisher(KafkaClients clients, String topic, CollectorSettings settings, Timer produceLatency) {
        this.topic = topic;
        this.produceLatency = produceLatency;
        this.producer = clients.producer(
                producerProperties(clients.bootstrapServers(), settings.ackTimeout(), settings.maxInFlightBytes()));
    }

    public static Map<String, Object> producerProperties(
            String bootstrapServers, Duration ackTimeout, long maxInFlightBytes) {
        int lingerMs = 5;
        int deliveryTimeout = (int) Math.max(ackTimeout.toMillis(), MIN_DELIVERY_TIMEOUT_MS);
        return Map.ofEntries(
                Map.entry(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers),
                Map.entry(ProducerConfig.CLIENT_ID_CONFIG, "sluice-collector"),
                Map.entry(ProducerConfig.ACKS_CONFIG, "all"),
                Map.entry(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true),
                Map.entry(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 5),
                Map.entry(ProducerConfig.LINGER_MS_CONFIG, lingerMs),
                Map.entry(ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024),
                Map.entry(ProducerConfig.COMPRESSION_TYPE_CONFIG, COMPRESSION),
                // Records the broker has not acknowledged by then fail, so no request outlives its ack timeout.
                Map.entry(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, deliveryTimeout),
                Map.entry(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, deliveryTimeout - lingerMs - 1),
                Map.entry(ProducerConfig.MAX_BLOCK_MS_CONFIG, (int) ackTimeout.toMillis()),
                // When a broker dies its partitions' records wait for the new leader; the backoff between the
                // metadata refreshes and retries is capped at 250 ms (default 1 s), so they go out within a
                // quarter second of the election instead of up to a second later (docs/reliability.md).
                Map.entry(ProducerConfig.RETRY_BACKOFF_MS_CONFIG, 50),
                Map.entry(ProducerConfig.RETRY_BACKOFF_MAX_MS_CONFIG, 250),
                Map.entry(
                        ProducerConfig.BUFFER_MEMORY_CONFIG,
                        bufferMemory(maxInFlightBytes, Runtime.getRuntime().maxMemory())));
    }

    /**
     * The producer's {@code buffer.memory}: above what the in-flight limiter admits, so send() does not block on
     * buffer space, but at most a quarter of the heap (at least 32 MB). The producer keeps every freed batch
     * buffer in its pool up to this size, so it is memory held for good after one overload: 3 x 64 MB was more
     * than half the heap of a 512 MiB container, and the collector ran out of heap under a flood of 500 KB batches
     * (docs/performance.md). Past it send() waits up to {@code max.block.ms} (the ack timeout) and the request
     * gets 503 with Retry-After.
     */
    static long bufferMemory(long maxInFlightBytes, long maxHeap) {
        return Math.min(Math.max(64L << 20, maxInFlightBytes * 3), Math.max(32L << 20, maxHeap / 4));
    }

    private static boolean snappyLoads() {
        try (OutputStream out = Compression.snappy()
                .build()
                .wrapForOutput(new ByteBufferOutputStream(64), RecordBatch.CURRENT_MAGIC_VALUE)) {
            out.write("{\"type\":\"track\"}"
                    .getBytes(StandardCharsets.UTF_8)); // compressed on close: loads the native library
            return true;
        } catch (Throwable e) { // SnappyError, UnsatisfiedLinkError, IOException: any of them means no snappy here
            LoggerFactory.getLogger(EventPublisher.class)
                    .warn("snappy is not available ({}); the collector's producer compresses with lz4", e.toString());
            return false;
        }
    }

    public CompletableFuture<Void> publish(List<OutgoingEvent> events) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        AtomicInteger pending = new AtomicInteger(events.size());
        long started = System.nanoTime();
        for (OutgoingEvent event : events) {
            try {
                producer.send(
                        new ProducerRecord<>(
                                topic,
                                null,
                                event.key().getBytes(StandardCharsets.UTF_8),
                                event.value(),
                                event.headers()),
                        (metadata, error) -> {
                            if (error != null) {
                                done.completeExceptionally(error);
                            } else if (pending.decrementAndGet() == 0) {
                                produceLatency.record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
                                done.complete(null);
                            }
                        });
            } catch (RuntimeException e) { // e.g. metadata not available within max.block.ms
                done.completeExceptionally(e);
                break;
            }
            // send() reports a metadata timeout through the callback, not by throwing: without this check every
            // further record of the request waited max.block.ms again (50 events: minutes, while the topic's
            // metadata was gone after a broker restart; found by KafkaDiskFullChaosIT).
            if (done.isCompletedExceptionally()) break;
        }
        return done;
    }

    /** Sends what is buffered and waits up to {@code timeout} for it to be acknowledged. */
    @Override
    public void close() {
        close(Duration.ofSeconds(5));
    }

    public void close(Duration timeout) {
        producer.close(timeout);
    }
}
