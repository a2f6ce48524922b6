package io.sluice.support;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/** Collector-shaped records with a chosen record timestamp, for tests of time windows (backfills, startFrom). */
public final class TimedEvents {
    private TimedEvents() {}

    /** One record: its partition, source, user, value and timestamp. */
    public record Timed(int partition, String source, String user, String value, Instant at) {}

    /** Sends the records in order; returns each one's offset. */
    public static List<Long> send(String bootstrapServers, String topic, List<Timed> records) {
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(
                Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers, ProducerConfig.ACKS_CONFIG, "all"),
                new ByteArraySerializer(),
                new ByteArraySerializer())) {
            List<Future<RecordMetadata>> sent = records.stream()
                    .map(r -> producer.send(new ProducerRecord<>(
                            topic,
                            r.partition(),
                            r.at().toEpochMilli(),
                            (r.source() + ":" + r.user()).getBytes(StandardCharsets.UTF_8),
                            r.value().getBytes(StandardCharsets.UTF_8))))
                    .toList();
            producer.flush();
            return sent.stream()
                    .map(f -> {
                        try {
                            return f.get().offset();
                        } catch (Exception e) {
                            throw new IllegalStateException(e);
                        }
                    })
                    .toList();
        }
    }
}
