package io.sluice.planner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;

import io.sluice.config.SluiceConfig.SyncSettings;
import io.sluice.event.RoutingHeaders;
import io.sluice.queue.PlannedBatch;
import io.sluice.support.TestEvents;
import io.sluice.support.TestKafka;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/**
 * The planner's consumer on a real broker: a record with routing headers arrives without its value (only its size),
 * a record written before the headers with its value bytes, and the key as its source id; batches are still bounded
 * by the values' sizes.
 */
class PlannerRecordsTest {
    static final Instant NOW = Instant.parse("2026-03-01T12:00:00Z");

    @Test
    void valuesAreReadOnlyWhereNoHeadersRouteTheRecordAndSizesStillBoundBatches() {
        String topic = TestEvents.createTopic("planner-records", 1);
        byte[] headered = "x".repeat(300).getBytes(StandardCharsets.UTF_8); // not JSON: never parsed
        byte[] legacy = "{\"type\":\"track\",\"event\":\"Order Completed\",\"pad\":\"%s\"}"
                .formatted("y".repeat(250))
                .getBytes(StandardCharsets.UTF_8);
        try (var producer = TestKafka.clients().producer(Map.of())) {
            for (int i = 0; i < 6; i++) {
                producer.send(new ProducerRecord<>(
                        topic,
                        0,
                        null,
                        ("web:user-" + i).getBytes(StandardCharsets.UTF_8),
                        headered,
                        RoutingHeaders.of("web", "track", "Order Completed", "user-" + i, NOW)));
            }
            producer.send(new ProducerRecord<>(topic, 0, "web:old".getBytes(StandardCharsets.UTF_8), legacy));
            producer.send(new ProducerRecord<>(topic, 0, "web".getBytes(StandardCharsets.UTF_8), legacy));
            producer.flush();
        }

        List<ConsumerRecord<String, byte[]>> records = consume(topic, 8);

        assertThat(records)
                .extracting(
                        ConsumerRecord::key,
                        r -> r.value() == null ? null : r.value().length,
                        r -> r.serializedValueSize())
                .containsExactly(
                        tuple("web", null, 300),
                        tuple("web", null, 300),
                        tuple("web", null, 300),
                        tuple("web", null, 300),
                        tuple("web", null, 300),
                        tuple("web", null, 300),
                        tuple("web", legacy.length, legacy.length),
                        tuple("web", legacy.length, legacy.length));
        assertThat(records.get(6).value()).isEqualTo(legacy);

        // As the planner feeds them: a filtered sync of at most 1,000 bytes per batch cuts after 4 x 300 bytes.
        var sync = new SyncSettings(
                "orders", "web", "d", List.of("track"), List.of("Order Completed"), 100, 1000, Duration.ofSeconds(5));
        PartitionPlan plan = new PartitionPlan(0, List.of(sync), Map.of(), 0, NOW);
        for (var r : records) {
            plan.add(r.offset(), r.key(), r.value(), Math.max(0, r.serializedValueSize()), r.headers(), NOW);
        }
        plan.cutAged(NOW.plusSeconds(5));
        assertThat(plan.cuts())
                .extracting(PlannedBatch::firstOffset, PlannedBatch::lastOffset, PlannedBatch::eventCount)
                .containsExactly(tuple(0L, 3L, 4), tuple(4L, 7L, 4));
        assertThat(plan.cuts().get(1).byteCount()).isEqualTo(2 * 300L + 2L * legacy.length);
    }

    private static List<ConsumerRecord<String, byte[]>> consume(String topic, int count) {
        List<ConsumerRecord<String, byte[]>> records = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = TestKafka.clients()
                .consumer(
                        Map.of(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"),
                        new PlannerRecords.SourceDeserializer(),
                        new PlannerRecords.RoutingValueDeserializer())) {
            consumer.assign(List.of(new TopicPartition(topic, 0)));
            consumer.seekToBeginning(List.of(new TopicPartition(topic, 0)));
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
                return records.size() >= count;
            });
        }
        return records;
    }
}
