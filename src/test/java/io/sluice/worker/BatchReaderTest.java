package io.sluice.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.config.SluiceConfig.SyncSettings;
import io.sluice.event.SyncFilter;
import io.sluice.queue.ClaimedBatch;
import io.sluice.support.TestEvents;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/**
 * The reader keeps a consumer on its partition with the records it fetched past a batch, so it is checked here on
 * the orders a worker really reads in: consecutive batches of interleaved partitions, a retry of an earlier range,
 * a jump ahead, and more partitions than consumers. Every read must return exactly its range, filtered.
 */
class BatchReaderTest {
    private static final SyncFilter ALL = filter(List.of(), List.of());

    private static SyncFilter filter(List<String> types, List<String> events) {
        return new SyncFilter(
                new SyncSettings("s", "web", "d", types, events, 1000, 1_000_000, Duration.ofMillis(500)));
    }

    private static ClaimedBatch batch(String topic, int partition, long first, long last) {
        return new ClaimedBatch(
                1, "s", topic, partition, first, last, (int) (last - first + 1), 1, 1, "w", Instant.EPOCH, null);
    }

    private static List<String> ids(List<ObjectNode> events) {
        return events.stream().map(e -> e.get("messageId").asText()).toList();
    }

    private static List<String> expected(int partition, long first, long last) {
        return LongStream.rangeClosed(first, last)
                .mapToObj(o -> "p" + partition + "-" + o)
                .toList();
    }

    private static String fill(int partitions, int perPartition) {
        String topic = TestEvents.createTopic("reader", partitions);
        for (int p = 0; p < partitions; p++) {
            List<String[]> records = new ArrayList<>();
            for (int o = 0; o < perPartition; o++) {
                String type = o % 3 == 0 ? "identify" : "track";
                records.add(new String[] {
                    "web", "u" + o, TestEvents.event("web", type, "u" + o, "E" + o % 2, "p" + p + "-" + o)
                });
            }
            TestEvents.send(topic, p, records);
        }
        return topic;
    }

    @Test
    void consecutiveInterleavedRetriedAndSkippedRangesReadExactlyTheirEvents() throws Exception {
        String topic = fill(3, 3_000);
        try (BatchReader reader = new BatchReader(io.sluice.support.TestKafka.clients(), 2)) {
            // consecutive batches of three partitions through two consumers, smaller than one fetch (2,000 records)
            for (long first = 0; first < 1_500; first += 300) {
                for (int p = 0; p < 3; p++) {
                    assertThat(ids(reader.read(batch(topic, p, first, first + 299), ALL)))
                            .isEqualTo(expected(p, first, first + 299));
                }
            }
            assertThat(ids(reader.read(batch(topic, 0, 1_500, 1_509), ALL))).isEqualTo(expected(0, 1_500, 1_509));
            assertThat(ids(reader.read(batch(topic, 0, 200, 260), ALL))) // a retry of an earlier range
                    .isEqualTo(expected(0, 200, 260));
            assertThat(ids(reader.read(batch(topic, 0, 261, 262), ALL))).isEqualTo(expected(0, 261, 262));
            assertThat(ids(reader.read(batch(topic, 0, 2_600, 2_999), ALL))) // past the leftovers
                    .isEqualTo(expected(0, 2_600, 2_999));
            assertThat(ids(reader.read(batch(topic, 0, 2_000, 2_001), ALL))).isEqualTo(expected(0, 2_000, 2_001));
            assertThat(ids(reader.read(batch(topic, 1, 1_510, 1_519), ALL))) // a gap inside the leftovers
                    .isEqualTo(expected(1, 1_510, 1_519));
            // one consumer after another (single-record batches) and one spanning several fetches
            for (long o = 1_520; o < 1_530; o++)
                assertThat(ids(reader.read(batch(topic, 1, o, o), ALL))).isEqualTo(expected(1, o, o));
            assertThat(ids(reader.read(batch(topic, 2, 0, 2_999), ALL))).isEqualTo(expected(2, 0, 2_999));
        }
    }

    @Test
    void theFilterSeesTheSourceTypeAndEventOfEachRecord() throws Exception {
        String topic = TestEvents.createTopic("reader-filter", 1);
        List<String[]> records = new ArrayList<>();
        records.add(new String[] {"web", "u1", TestEvents.event("web", "track", "u1", "Keep", "a")});
        records.add(new String[] {"web", "u1", TestEvents.event("web", "track", "u1", "Drop", "b")});
        records.add(new String[] {"web", "u1", TestEvents.event("web", "identify", "u1", "", "c")});
        records.add(new String[] {"app", "u1", TestEvents.event("app", "track", "u1", "Keep", "d")});
        records.add(new String[] {"app", "u1", "not json"}); // another source's bad record is never parsed
        records.add(new String[] {"web", "u1", "[1,2]"}); // not an object: skipped
        records.add(new String[] {"web", "u1", TestEvents.event("web", "page", "u1", "", "e")});
        TestEvents.send(topic, 0, records);
        try (BatchReader reader = new BatchReader(io.sluice.support.TestKafka.clients(), 1)) {
            assertThat(ids(reader.read(batch(topic, 0, 0, 6), ALL))).containsExactly("a", "b", "c", "e");
            assertThat(ids(reader.read(batch(topic, 0, 0, 6), filter(List.of("track", "identify"), List.of("Keep")))))
                    .containsExactly("a", "c");
        }
        String bad = TestEvents.createTopic("reader-bad", 1);
        TestEvents.send(bad, 0, List.<String[]>of(new String[] {"web", "u1", "{\"type\":\"track\", broken"}));
        try (BatchReader reader = new BatchReader(io.sluice.support.TestKafka.clients(), 1)) {
            // the sync's own unreadable record fails the read (as before), unless its type filter excludes it
            assertThatThrownBy(() -> reader.read(batch(bad, 0, 0, 0), ALL)).isInstanceOf(IOException.class);
            assertThat(reader.read(batch(bad, 0, 0, 0), filter(List.of("identify"), List.of())))
                    .isEmpty();
        }
    }

    /** Records as the collector writes them now: with routing headers (type, track name) beside the JSON value. */
    @Test
    void recordsWithHeadersAreFilteredByTheirHeadersAndOnlyWantedOnesParsed() throws Exception {
        String topic = TestEvents.createTopic("reader-headers", 1);
        try (var producer = io.sluice.support.TestKafka.clients().producer(java.util.Map.of("acks", "all"))) {
            send(producer, topic, "web", "track", "Keep", TestEvents.event("web", "track", "u1", "Keep", "a"));
            send(producer, topic, "web", "track", "Drop", TestEvents.event("web", "track", "u1", "Drop", "b"));
            send(producer, topic, "web", "identify", null, TestEvents.event("web", "identify", "u1", "", "c"));
            // never parsed: the headers already say the sync does not want it
            send(producer, topic, "web", "track", "Drop", "{\"type\":\"track\", broken");
            send(producer, topic, "web", "page", null, TestEvents.event("web", "page", "u1", "", "e"));
            // wanted by its headers but unreadable: fails the read, as it does without headers
            send(producer, topic, "web", "track", "Keep", "{\"type\":\"track\", broken");
            producer.flush();
        }
        SyncFilter keep = filter(List.of("track", "identify"), List.of("Keep"));
        try (BatchReader reader = new BatchReader(io.sluice.support.TestKafka.clients(), 1)) {
            assertThat(ids(reader.read(batch(topic, 0, 0, 4), keep))).containsExactly("a", "c");
            assertThat(ids(reader.read(batch(topic, 0, 0, 2), ALL))).containsExactly("a", "b", "c");
            assertThat(ids(reader.read(batch(topic, 0, 4, 4), ALL))).containsExactly("e");
            assertThatThrownBy(() -> reader.read(batch(topic, 0, 0, 5), keep)).isInstanceOf(IOException.class);
        }
    }

    private static void send(
            org.apache.kafka.clients.producer.Producer<byte[], byte[]> producer,
            String topic,
            String source,
            String type,
            String event,
            String value) {
        producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(
                topic,
                0,
                (source + ":u1").getBytes(java.nio.charset.StandardCharsets.UTF_8),
                value.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                io.sluice.event.RoutingHeaders.of(source, type, event, "u1", Instant.EPOCH)));
    }
}
