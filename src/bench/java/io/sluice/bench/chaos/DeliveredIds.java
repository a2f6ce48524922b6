package io.sluice.bench.chaos;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.kafka.KafkaClients;
import java.io.IOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;

/** Where the role-kill scenario looks for acknowledged events: a topic (events or mirror) and the warehouse. */
public final class DeliveredIds {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private DeliveredIds() {}

    /**
     * messageId -> how many records of the topic carry it (read from the beginning by a fresh consumer, as a downstream
     * user would; more than 1 is what a consumer that does not dedupe sees twice). Reads until at least
     * {@code atLeast} records arrived and then a quiet moment, or until {@code timeout}.
     */
    public static Map<String, Integer> inTopic(String bootstrapServers, String topic, int atLeast, Duration timeout) {
        Map<String, Integer> counts = new HashMap<>();
        try (KafkaConsumer<String, String> consumer = KafkaClients.plain(bootstrapServers)
                .consumer(
                        Map.of(
                                ConsumerConfig.GROUP_ID_CONFIG,
                                "chaos-check-" + UUID.randomUUID(),
                                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
                                "earliest",
                                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
                                false,
                                // as the docs tell a Kafka destination's consumers: aborted attempts are not deliveries
                                ConsumerConfig.ISOLATION_LEVEL_CONFIG,
                                "read_committed"),
                        new StringDeserializer(),
                        new StringDeserializer())) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + timeout.toNanos();
            long quietUntil = 0;
            int records = 0;
            while (System.nanoTime() < deadline) {
                for (var record : consumer.poll(Duration.ofMillis(200))) {
                    records++;
                    counts.merge(messageId(record.value()), 1, Integer::sum);
                }
                if (records >= atLeast) {
                    // keep polling briefly so that extra (duplicate) records are seen too
                    if (quietUntil == 0)
                        quietUntil = System.nanoTime() + Duration.ofMillis(700).toNanos();
                    if (System.nanoTime() > quietUntil) break;
                }
            }
        }
        return counts;
    }

    /** messageId -> rows in the warehouse's tracks table (empty before the first delivered batch created it). */
    public static Map<String, Integer> inWarehouse(String warehouseUrl, String user) {
        Map<String, Integer> counts = new HashMap<>();
        try (Connection c = DriverManager.getConnection(warehouseUrl, user, "");
                var rs = c.createStatement().executeQuery("SELECT id FROM web.tracks")) {
            while (rs.next()) counts.merge(rs.getString(1), 1, Integer::sum);
        } catch (SQLException e) {
            // the table appears with the first delivered batch
        }
        return counts;
    }

    private static String messageId(String json) {
        try {
            return MAPPER.readTree(json).path("messageId").asText();
        } catch (IOException e) {
            return "(unparsable)";
        }
    }
}
