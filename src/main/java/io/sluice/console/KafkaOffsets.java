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
import org.apache.kafka.common.TopicPartition;

/** The events topic's end offsets per partition, for the syncs' unplanned lag; created on first use, cached 2 s. */
final class KafkaOffsets implements AutoCloseable {
    private static final long CACHE_NANOS = Duration.ofSeconds(2).toNanos();
    private final KafkaClients clients;
    private final String topic;
    private Admin admin;
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

    @Override
    public synchronized void close() {
        if (admin != null) admin.close(Duration.ofSeconds(1));
    }
}
