package io.sluice.contract;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.kafka.KafkaClients;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The collector's side of violations: counts them and sends them, fire-and-forget, to the violations topic (one
 * record per request, see {@link Violation#toJson(List)}) with a small producer of its own, so that it never
 * competes with the events' producer. The collector never touches the database; {@link ViolationWriter} persists
 * what arrives here. A failed send is logged and counted, never retried by the request: violations are records
 * about events, and the events themselves are already safe in Kafka.
 */
public final class ViolationPublisher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ViolationPublisher.class);
    private static final long LOG_EVERY_NANOS = Duration.ofSeconds(10).toNanos();

    private final KafkaClients clients;
    private final String topic;
    private final MeterRegistry registry;
    private final KafkaProducer<byte[], byte[]> producer;
    private final Map<MeterKey, Counter> counters = new ConcurrentHashMap<>();
    private final Counter unpublished;
    private final AtomicLong lastFailureLog = new AtomicLong(System.nanoTime() - LOG_EVERY_NANOS);

    public ViolationPublisher(KafkaClients clients, String topic, MeterRegistry registry) {
        this.clients = clients;
        this.topic = topic;
        this.registry = registry;
        this.producer = clients.producer(Map.of(
                ProducerConfig.CLIENT_ID_CONFIG,
                "sluice-collector-violations",
                ProducerConfig.ACKS_CONFIG,
                "all",
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG,
                true,
                ProducerConfig.LINGER_MS_CONFIG,
                20,
                ProducerConfig.COMPRESSION_TYPE_CONFIG,
                "lz4",
                // A request thread waits at most this long when Kafka is unreachable or the buffer is full.
                ProducerConfig.MAX_BLOCK_MS_CONFIG,
                200,
                ProducerConfig.BUFFER_MEMORY_CONFIG,
                16L << 20,
                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG,
                60_000));
        this.unpublished = Counter.builder("sluice.contract.violations.unpublished")
                .description("Violations that could not be written to the violations topic")
                .register(registry);
    }

    /** Creates the violations topic when it does not exist (called once at start). */
    public void ensureTopic() {
        if (ViolationsTopic.ensure(clients, topic)) {
            producer.partitionsFor(topic); // fetch metadata now, not on the first request with a violation
        }
    }

    /** Counts and sends one accepted request's violations; {@code blockedEvents} were deliberately not delivered. */
    public void publish(String sourceId, List<Violation> violations, int blockedEvents) {
        if (blockedEvents > 0)
            counter("sluice.contract.events.blocked", sourceId, null, null).increment(blockedEvents);
        if (violations.isEmpty()) return;
        for (Violation violation : violations)
            counter("sluice.contract.violations", sourceId, violation.rule(), violation.action())
                    .increment();
        for (int from = 0; from < violations.size(); from += Violation.PER_RECORD) {
            List<Violation> chunk = violations.subList(from, Math.min(violations.size(), from + Violation.PER_RECORD));
            try {
                producer.send(new ProducerRecord<>(topic, null, Violation.toJson(chunk)), (metadata, error) -> {
                    if (error != null) failed(chunk.size(), error);
                });
            } catch (RuntimeException e) { // metadata or buffer space not available within max.block.ms
                failed(chunk.size(), e);
            }
        }
    }

    private void failed(int count, Exception error) {
        unpublished.increment(count);
        long now = System.nanoTime();
        long last = lastFailureLog.get();
        if (now - last >= LOG_EVERY_NANOS && lastFailureLog.compareAndSet(last, now)) {
            log.warn(
                    "Could not publish contract violations to {} ({}); they are counted in sluice_contract_violations_unpublished_total",
                    topic,
                    error.toString());
        }
    }

    private record MeterKey(String name, String source, String rule, String action) {}

    private Counter counter(String name, String source, String rule, String action) {
        return counters.computeIfAbsent(new MeterKey(name, source, rule, action), k -> {
            Counter.Builder builder = Counter.builder(name).tag("source", source);
            if (rule != null) {
                builder.description("Contract violations by source, rule and action")
                        .tag("rule", rule)
                        .tag("action", action);
            } else {
                builder.description("Events dropped by a contract (blocked), by source");
            }
            return builder.register(registry);
        });
    }

    @Override
    public void close() {
        close(Duration.ofSeconds(2));
    }

    public void close(Duration timeout) {
        producer.close(timeout);
    }
}
