package io.sluice.destination.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.config.ConfigLoader;
import io.sluice.destination.DeliveryBatch;
import io.sluice.destination.Destination;
import io.sluice.destination.DestinationContext;
import io.sluice.event.ExactEvent;
import io.sluice.runtime.DestinationRegistry;
import io.sluice.support.TestEvents;
import io.sluice.support.TestKafka;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;

/**
 * Hostile user ids and payloads forwarded to a real topic: each record's value is the accepted event byte for byte,
 * its key the user's exact UTF-8 (a lone surrogate as its own three bytes, never another user's '?'), and nothing
 * about the ids makes a send throw.
 */
class KafkaDestinationBytesTest {

    @Test
    void valuesAreTheAcceptedBytesAndKeysTheUsersExactUtf8() throws Exception {
        String topic = TestEvents.createTopic("mirror-bytes", 1);
        List<String> users = List.of(
                "u\\u0000",
                "u\\\\u0000",
                "u\\n\\r",
                "\u00e9\u975e",
                "\\u202e",
                "\\ud800",
                "\\ud801",
                "L".repeat(10_240));
        List<byte[]> accepted = new ArrayList<>();
        List<ObjectNode> events = new ArrayList<>();
        for (int i = 0; i < users.size(); i++) {
            byte[] json = ("{\"type\":\"track\", \"userId\":\"" + users.get(i) + "\",\"messageId\":\"m" + i
                            + "\",\"properties\":{\"a\":1.10,\"b\":-0,\"c\":1E2}}")
                    .getBytes(StandardCharsets.UTF_8);
            accepted.add(json);
            events.add(ExactEvent.of(json));
        }
        var settings = new ConfigLoader(Map.of())
                .loadYaml("""
                sources: [{id: web, writeKey: k}]
                destinations: [{id: mirror, type: kafka, bootstrapServers: "%s", topic: %s}]
                """.formatted(TestKafka.bootstrapServers(), topic))
                .destination("mirror");
        try (Destination destination = DestinationRegistry.create(
                settings, DestinationContext.of(new SimpleMeterRegistry(), Clock.systemUTC()))) {
            destination.open();
            assertThat(destination
                            .deliver(new DeliveryBatch("mirror-sync", "web", 1, 0, 0, events.size() - 1, events))
                            .allDelivered())
                    .isTrue();
        }

        List<ConsumerRecord<byte[], byte[]>> records = read(topic, events.size());
        assertThat(records).hasSize(events.size());
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < records.size(); i++) {
            assertThat(records.get(i).value()).as("value %d", i).isEqualTo(accepted.get(i));
            keys.add(new String(records.get(i).key(), StandardCharsets.ISO_8859_1));
        }
        assertThat(keys).as("every user its own key").doesNotHaveDuplicates();
        assertThat(records.get(0).key()).isEqualTo(new byte[] {'u', 0});
        assertThat(records.get(1).key()).isEqualTo("u\\u0000".getBytes(StandardCharsets.UTF_8));
        assertThat(records.get(3).key()).isEqualTo("\u00e9\u975e".getBytes(StandardCharsets.UTF_8));
        assertThat(records.get(5).key()).isEqualTo(new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80});
    }

    private static List<ConsumerRecord<byte[], byte[]>> read(String topic, int count) {
        List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(
                Map.of(
                        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                        TestKafka.bootstrapServers(),
                        ConsumerConfig.GROUP_ID_CONFIG,
                        "bytes-" + UUID.randomUUID(),
                        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
                        "earliest"),
                new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (records.size() < count && System.nanoTime() < deadline)
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
        }
        return records;
    }
}
