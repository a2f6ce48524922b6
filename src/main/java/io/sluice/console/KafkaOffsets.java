package io.sluice.console;

import io.sluice.kafka.KafkaClients;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

/**
 * The events topic's end offsets per partition, for the syncs' unplanned lag (created on first use, cached 2 s), and
 * the time of the oldest unplanned event.
 */
final class KafkaOffsets implements AutoCloseable {
    private static final long CACHE_NANOS = Duration.ofSeconds(2).toNanos();
    private final KafkaClients clients;
    private final String topic;
    private Admin admin;
    private KafkaConsumer<byte[], byte[]> consumer;
    private final Map<String, Long> timestamps = new HashMap<>();
    private Map<Integer, Long> last = Map.of();
    private long at;

    KafkaOffsets(KafkaClients clients, String topic) {
        this.clients = clients;
        this.topic = topic;
    }

    /** Partition → end offset; empty when Kafka does not answer within 2 s. */
    synchronized Map<Integer, Long> ends() {
        if (at != 0 && System.nanoTime() - at < CACHE_NANOS) return last;
        try {
            if (admin == null) {
                admin = clients.admin(Map.of(
                        AdminClientConfig.CLIENT_ID_CONFIG,
                        "sluice-console",
                        AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG,
                        2000,
                        AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG,
                        2000));
            }
            int partitions = admin.describeTopics(List.of(topic))
                    .allTopicNames()
                    .get(2, TimeUnit.SECONDS)
                    .get(topic)
                    .partitions()
                    .size();
            Map<TopicPartition, OffsetSpec> request = new HashMap<>();
            for (int p = 0; p < partitions; p++) request.put(new TopicPartition(topic, p), OffsetSpec.latest());
            last = admin.listOffsets(request).all().get(2, TimeUnit.SECONDS).entrySet().stream()
                    .collect(Collectors.toMap(
                            e -> e.getKey().partition(), e -> e.getValue().offset()));
        } catch (Exception e) {
            last = Map.of();
        }
        at = System.nanoTime();
        return last;
    }

    /**
     * When the record at {@code offset} of a partition was written (epoch millis), or -1 when it cannot be read now:
     * the age of the oldest event a sync has not planned yet (the planner may be held, e.g. while database writes
     * are paused). A record's timestamp never changes, so answers are kept (a few hundred at most).
     */
    synchronized long timestampAt(int partition, long offset) {
        String key = partition + ":" + offset;
        Long known = timestamps.get(key);
        if (known != null) return known;
        try {
            if (consumer == null) {
                consumer = clients.consumer(Map.of(
                        ConsumerConfig.CLIENT_ID_CONFIG,
                        "sluice-console-age",
                        ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
                        false,
                        ConsumerConfig.MAX_POLL_RECORDS_CONFIG,
                        1,
                        ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG,
                        2000));
            }
            TopicPartition tp = new TopicPartition(topic, partition);
            consumer.assign(List.of(tp));
            consumer.seek(tp, offset);
            for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(1500))) {
                if (r.offset() < offset) continue;
                if (timestamps.size() > 500) timestamps.clear();
                timestamps.put(key, r.timestamp());
                return r.timestamp();
            }
        } catch (RuntimeException e) {
            // Kafka not answering: the age is unknown, not zero
        }
        return -1;
    }

    @Override
    public synchronized void close() {
        if (admin != null) admin.close(Duration.ofSeconds(1));
        if (consumer != null) consumer.close(Duration.ofSeconds(1));
    }
}
