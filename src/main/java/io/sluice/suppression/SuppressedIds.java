package io.sluice.suppression;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.kafka.KafkaClients;
import io.sluice.lifecycle.Service;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The suppressed ids in memory, following the compacted {@link SuppressionTopic} (no consumer group: each collector
 * replica reads the whole topic). {@link #start()} reads up to the topic's end before returning, so a collector that
 * starts does not accept a suppressed person's events; afterwards a thread applies new records within about a poll
 * (100 ms fetch wait). The hot path's {@link #drops} is two hash-set lookups, none while the set is empty.
 */
public final class SuppressedIds implements Suppressions, Service {
    private static final Logger log = LoggerFactory.getLogger(SuppressedIds.class);
    private static final Duration CATCH_UP = Duration.ofSeconds(15);

    private final KafkaClients clients;
    private final String topic;
    private final TopicPartition partition;
    private final Set<String> ids = ConcurrentHashMap.newKeySet();
    private final Counter dropped;
    private KafkaConsumer<byte[], byte[]> consumer;
    private Thread follower;
    private volatile boolean closed;

    public SuppressedIds(KafkaClients clients, String topic, MeterRegistry registry) {
        this.clients = clients;
        this.topic = topic;
        this.partition = new TopicPartition(topic, 0);
        this.dropped = Counter.builder("sluice.collector.suppressed.events")
                .description("Events the collector dropped because their userId or anonymousId is suppressed")
                .register(registry);
        Gauge.builder("sluice.collector.suppressed.ids", ids, Set::size)
                .description("Ids the collector currently suppresses")
                .register(registry);
    }

    @Override
    public boolean isEmpty() {
        return ids.isEmpty();
    }

    @Override
    public boolean drops(String userId, String anonymousId) {
        if ((userId != null && ids.contains(userId)) || (anonymousId != null && ids.contains(anonymousId))) {
            dropped.increment();
            return true;
        }
        return false;
    }

    /** Whether this id is suppressed now (tests, the console). */
    public boolean contains(String id) {
        return ids.contains(id);
    }

    @Override
    public synchronized void start() {
        if (consumer != null || closed) return;
        SuppressionTopic.ensure(clients, topic);
        consumer = clients.consumer(Map.of(
                ConsumerConfig.CLIENT_ID_CONFIG,
                "sluice-suppressions",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
                false,
                ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG,
                100));
        consumer.assign(List.of(partition));
        consumer.seekToBeginning(List.of(partition));
        long end = consumer.endOffsets(List.of(partition)).get(partition);
        // A real wait on the broker, so a monotonic deadline rather than the injected clock.
        long deadline = System.nanoTime() + CATCH_UP.toNanos();
        while (consumer.position(partition) < end && System.nanoTime() < deadline) apply(Duration.ofMillis(200));
        if (consumer.position(partition) < end) {
            log.warn(
                    "Read the suppressions topic {} only up to {} of {} at start; following on",
                    topic,
                    consumer.position(partition),
                    end);
        }
        log.info("Suppressing {} id(s) from {}", ids.size(), topic);
        follower = Thread.ofPlatform().daemon().name("sluice-suppressions").start(this::follow);
    }

    private void follow() {
        try {
            while (!closed) {
                try {
                    apply(Duration.ofSeconds(1));
                } catch (WakeupException e) {
                    return;
                } catch (RuntimeException e) {
                    if (closed) return;
                    log.warn("Reading the suppressions topic {} failed, retrying: {}", topic, e.toString());
                }
            }
        } finally {
            consumer.close(Duration.ofSeconds(2));
        }
    }

    private void apply(Duration timeout) {
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(timeout)) {
            if (record.key() == null) continue;
            String id = new String(record.key(), StandardCharsets.UTF_8);
            if (record.value() == null) ids.remove(id);
            else ids.add(id);
        }
    }

    @Override
    public void close() {
        Thread running;
        synchronized (this) {
            if (closed) return;
            closed = true;
            running = follower;
            if (consumer != null && running == null) consumer.close(Duration.ofSeconds(2));
        }
        if (running != null) {
            consumer.wakeup();
            try {
                running.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
