package io.sluice.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;

/** Reads a topic from the beginning with a real consumer, as a downstream user would. */
public final class TopicReader {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private TopicReader() {}

    /** Every record in the topic, waiting until at least {@code atLeast} arrived or {@code timeout} passed. */
    public static List<ConsumerRecord<String, String>> read(
            String bootstrapServers, String topic, int atLeast, Duration timeout) {
        List<ConsumerRecord<String, String>> records = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(
                Map.of(
                        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                        bootstrapServers,
                        ConsumerConfig.GROUP_ID_CONFIG,
                        "test-" + UUID.randomUUID(),
                        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
                        "earliest",
                        ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
                        false,
                        ConsumerConfig.ISOLATION_LEVEL_CONFIG,
                        "read_committed"),
                new StringDeserializer(),
                new StringDeserializer())) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + timeout.toNanos();
            long quietUntil = 0;
            while (System.nanoTime() < deadline) {
                var batch = consumer.poll(Duration.ofMillis(200));
                batch.forEach(records::add);
                if (records.size() >= atLeast) {
                    // keep polling briefly so that extra (duplicate) records would be seen too
                    if (quietUntil == 0)
                        quietUntil = System.nanoTime() + Duration.ofMillis(700).toNanos();
                    if (System.nanoTime() > quietUntil) break;
                }
            }
        }
        return records;
    }

    public static List<JsonNode> readEvents(String bootstrapServers, String topic, int atLeast) {
        return read(bootstrapServers, topic, atLeast, Duration.ofSeconds(30)).stream()
                .map(r -> json(r.value()))
                .toList();
    }

    public static JsonNode json(String text) {
        try {
            return MAPPER.readTree(text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
