package io.sluice.destination.kafka;

import io.sluice.delivery.DeliveryException;
import io.sluice.delivery.FailureClass;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The compacted topic of delivery markers on the destination's cluster: one partition (0), keyed by the transactional
 * id that writes the marker ({@code sluice-<sync>-<partition>}, or {@code sluice-<sync>-retry-<slot>/<user hash>}), so
 * a producer's markers are read back by that key and written only by that producer. Created when missing.
 */
final class MarkerTopic {
    private static final Logger log = LoggerFactory.getLogger(MarkerTopic.class);

    private final String topic;
    private final TopicPartition partition;
    private final Supplier<Admin> admin;
    private final Supplier<Consumer<byte[], byte[]>> consumers;
    private final Duration timeout;
    private final Duration readTimeout;
    private volatile boolean ready;

    /**
     * @param timeout bounds each admin call
     * @param readTimeout how long a read may wait for transactions still open on the topic (a killed worker's is
     *     aborted by its successor's initTransactions, or after {@code transaction.timeout.ms})
     */
    MarkerTopic(
            String topic,
            Supplier<Admin> admin,
            Supplier<Consumer<byte[], byte[]>> consumers,
            Duration timeout,
            Duration readTimeout) {
        this.topic = topic;
        this.partition = new TopicPartition(topic, 0);
        this.admin = admin;
        this.consumers = consumers;
        this.timeout = timeout;
        this.readTimeout = readTimeout;
    }

    String name() {
        return topic;
    }

    /** Creates the topic (compacted, one partition, up to 3 replicas) unless it exists. */
    void ensure() throws Exception {
        if (ready) return;
        Admin client = admin.get();
        try {
            client.describeTopics(List.of(topic)).allTopicNames().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) throw e;
            int brokers = client.describeCluster()
                    .nodes()
                    .get(timeout.toMillis(), TimeUnit.MILLISECONDS)
                    .size();
            NewTopic created = new NewTopic(topic, 1, (short) Math.max(1, Math.min(3, brokers)))
                    .configs(Map.of(
                            "cleanup.policy", "compact",
                            "segment.ms", "600000",
                            "min.cleanable.dirty.ratio", "0.1"));
            try {
                client.createTopics(List.of(created)).all().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
                log.info(
                        "Created the delivery marker topic {} ({} replica(s), compacted)",
                        topic,
                        created.replicationFactor());
            } catch (ExecutionException exists) {
                if (!(exists.getCause() instanceof TopicExistsException)) throw exists;
            }
        }
        ready = true;
    }

    /**
     * The committed markers of the transactional id {@code owner}: its own key and keys under {@code owner/}. Reads
     * with {@code isolation.level=read_committed} up to the high watermark taken first, so every transaction committed
     * before the read is seen (reading only to the last stable offset could stop before a commit that follows another
     * id's still open transaction).
     */
    Map<String, DeliveryMarker> read(String owner) throws Exception {
        long highWatermark = admin.get()
                .listOffsets(
                        Map.of(partition, OffsetSpec.latest()), new ListOffsetsOptions(IsolationLevel.READ_UNCOMMITTED))
                .partitionResult(partition)
                .get(timeout.toMillis(), TimeUnit.MILLISECONDS)
                .offset();
        Map<String, DeliveryMarker> found = new HashMap<>();
        try (Consumer<byte[], byte[]> consumer = consumers.get()) {
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            long deadline = System.nanoTime() + readTimeout.toNanos();
            while (consumer.position(partition) < highWatermark) {
                if (System.nanoTime() > deadline) {
                    throw DeliveryException.of(
                            FailureClass.RESPONSIVE_ERROR,
                            "marker topic " + topic + " was not readable up to offset " + highWatermark + " within "
                                    + readTimeout + " (a transaction still open on it?)",
                            null);
                }
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(100))) {
                    if (record.key() == null) continue;
                    String key = new String(record.key(), StandardCharsets.UTF_8);
                    if (!key.equals(owner) && !key.startsWith(owner + "/")) continue;
                    if (record.value() == null) found.remove(key);
                    else found.put(key, parse(record));
                }
            }
        }
        return found;
    }

    ProducerRecord<byte[], byte[]> record(String key, DeliveryMarker marker) {
        return new ProducerRecord<>(topic, 0, key.getBytes(StandardCharsets.UTF_8), marker.toJson());
    }

    private DeliveryMarker parse(ConsumerRecord<byte[], byte[]> record) {
        try {
            return DeliveryMarker.parse(record.value());
        } catch (IOException e) {
            throw new IllegalStateException(
                    "marker at offset " + record.offset() + " of " + topic + " is not a marker: " + e.getMessage(), e);
        }
    }
}
