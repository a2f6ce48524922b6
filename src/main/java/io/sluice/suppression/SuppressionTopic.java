package io.sluice.suppression;

import io.sluice.kafka.KafkaClients;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * The suppressions topic: compacted, one partition, one record per suppressed id (key: the id's UTF-8 bytes; value:
 * a small JSON note of the request). Unsuppressing writes a tombstone, so compaction leaves exactly the ids still
 * suppressed. Every collector replica reads it whole at start and follows it ({@link SuppressedIds}); the queue
 * database is never involved, so the collector role keeps working without it.
 */
public final class SuppressionTopic {
    private SuppressionTopic() {}

    /** The topic's name: the events topic's with {@code .suppressions} appended. */
    public static String name(String eventsTopic) {
        return eventsTopic + ".suppressions";
    }

    /** Creates the topic if missing (compacted, 1 partition, the cluster's default replication). */
    public static void ensure(KafkaClients clients, String topic) {
        try (Admin admin = clients.admin(Map.of(AdminClientConfig.CLIENT_ID_CONFIG, "sluice-suppressions"))) {
            if (admin.listTopics().names().get(30, TimeUnit.SECONDS).contains(topic)) return;
            admin.createTopics(List.of(new NewTopic(topic, Optional.of(1), Optional.empty())
                            .configs(Map.of("cleanup.policy", "compact", "segment.ms", "600000"))))
                    .all()
                    .get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException))
                throw new IllegalStateException("Could not create the suppressions topic " + topic, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted creating the suppressions topic " + topic, e);
        } catch (Exception e) {
            throw new IllegalStateException(
                    "Could not create the suppressions topic " + topic + ": " + e.getMessage(), e);
        }
    }

    /** Writes suppressions (and tombstones), acknowledged by all in-sync replicas. */
    public static final class Writer implements AutoCloseable {
        private final String topic;
        private final KafkaProducer<byte[], byte[]> producer;

        public Writer(KafkaClients clients, String topic) {
            this.topic = topic;
            ensure(clients, topic);
            this.producer = clients.producer(Map.of(
                    ProducerConfig.CLIENT_ID_CONFIG,
                    "sluice-suppressions",
                    ProducerConfig.ACKS_CONFIG,
                    "all",
                    ProducerConfig.MAX_BLOCK_MS_CONFIG,
                    10_000,
                    ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG,
                    10_000,
                    ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG,
                    5_000));
        }

        /**
         * Suppresses ({@code suppress}) or lifts the suppression of every id, and waits until Kafka acknowledged all.
         * @param note what the record says about its request (JSON text), ignored for tombstones
         */
        public void write(Collection<String> ids, boolean suppress, String note) throws Exception {
            byte[] value = suppress ? note.getBytes(StandardCharsets.UTF_8) : null;
            List<Future<?>> sent = new ArrayList<>(ids.size());
            for (String id : ids) {
                sent.add(producer.send(new ProducerRecord<>(topic, id.getBytes(StandardCharsets.UTF_8), value)));
            }
            producer.flush();
            for (Future<?> f : sent) f.get(15, TimeUnit.SECONDS);
        }

        @Override
        public void close() {
            producer.close(Duration.ofSeconds(2));
        }
    }
}
