package io.sluice.collector;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.event.RoutingHeaders;
import io.sluice.support.TestEvents;
import io.sluice.support.TestKafka;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/**
 * The collector's producer compresses with snappy where its native library loads (it does on the build machines;
 * elsewhere lz4, see EventPublisher.COMPRESSION), and a real broker takes and returns the records byte for byte.
 */
class EventPublisherCompressionTest {
    @Test
    void eventsAreProducedWithSnappyAndReadBackByteForByte() throws Exception {
        Map<String, Object> props =
                EventPublisher.producerProperties(TestKafka.bootstrapServers(), Duration.ofSeconds(10), 1L << 20);
        assertThat(EventPublisher.COMPRESSION).isEqualTo("snappy");
        assertThat(props).containsEntry(ProducerConfig.COMPRESSION_TYPE_CONFIG, "snappy");

        String topic = TestEvents.createTopic("snappy", 1);
        List<byte[]> sent = new ArrayList<>();
        Instant now = Instant.parse("2026-12-08T02:00:00Z");
        try (var producer = TestKafka.clients().producer(props)) {
            for (int i = 0; i < 500; i++) {
                byte[] value = TestEvents.event("web", "track", "u" + i, "Order Completed", "m-" + i)
                        .getBytes(StandardCharsets.UTF_8);
                sent.add(value);
                producer.send(new ProducerRecord<>(
                        topic,
                        0,
                        null,
                        ("web:u" + i).getBytes(StandardCharsets.UTF_8),
                        value,
                        RoutingHeaders.of("web", "track", "Order Completed", "u" + i, now)));
            }
            producer.flush();
            assertThat(producer.metrics().entrySet())
                    .filteredOn(e -> e.getKey().name().equals("compression-rate-avg"))
                    .singleElement()
                    .satisfies(
                            e -> assertThat((Double) e.getValue().metricValue()).isBetween(0.01, 0.9));
        }

        List<byte[]> read = new ArrayList<>();
        try (var consumer = TestKafka.clients().consumer(Map.of(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"))) {
            consumer.assign(List.of(new TopicPartition(topic, 0)));
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                consumer.poll(Duration.ofMillis(200)).forEach(r -> read.add(r.value()));
                return read.size() >= sent.size();
            });
        }
        assertThat(read).containsExactlyElementsOf(sent);
    }
}
