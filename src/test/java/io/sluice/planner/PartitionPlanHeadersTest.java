package io.sluice.planner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import io.sluice.config.SluiceConfig.SyncSettings;
import io.sluice.event.RoutingHeaders;
import io.sluice.queue.PlannedBatch;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;

/**
 * The planner counts an event towards a filtered sync by the record's headers when it has them (its value is not
 * parsed: here it is not even JSON), and by the value for records written before the collector wrote headers.
 */
class PartitionPlanHeadersTest {
    static final Instant NOW = Instant.parse("2026-03-01T12:00:00Z");

    static SyncSettings sync(String id, List<String> types, List<String> events) {
        return new SyncSettings(id, "web", "d", types, events, 1000, 1_000_000, Duration.ofMillis(500));
    }

    static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    static Headers headers(String type, String event) {
        return new RecordHeaders(RoutingHeaders.of("web", type, event, "u1", NOW));
    }

    @Test
    void filteredSyncsAreRoutedByHeadersAndOldRecordsByTheirValue() {
        PartitionPlan plan = new PartitionPlan(
                0,
                List.of(
                        sync("orders", List.of("track"), List.of("Order Completed")),
                        sync("identities", List.of("identify"), List.of()),
                        sync("everything", List.of(), List.of())),
                Map.of(),
                0,
                NOW);
        byte[] key = bytes("web:u1");
        byte[] opaque = bytes("not json: only the headers say what this is");
        // with headers: the value is never read for routing
        plan.add(0, key, opaque, headers("track", "Order Completed"), NOW);
        plan.add(1, key, opaque, headers("track", "Viewed"), NOW);
        plan.add(2, key, opaque, headers("identify", null), NOW);
        // without headers (an older collector): routed by the value, as before
        plan.add(3, key, bytes("{\"type\":\"track\",\"event\":\"Order Completed\"}"), new RecordHeaders(), NOW);
        plan.add(4, key, bytes("{\"type\":\"identify\",\"userId\":\"u1\"}"), null, NOW);
        plan.add(5, key, opaque, null, NOW); // unreadable and without headers: only the unfiltered sync takes it
        // another source's record, with headers
        plan.add(6, bytes("app:u1"), opaque, headers("track", "Order Completed"), NOW);

        plan.cutAged(NOW.plusSeconds(1));
        assertThat(plan.cuts())
                .extracting(PlannedBatch::syncId, PlannedBatch::eventCount)
                .containsExactlyInAnyOrder(tuple("orders", 2), tuple("identities", 2), tuple("everything", 6));
    }

    @Test
    void headersCarryTheFieldsAsUtf8AndTheReceivedTimeAsMillis() {
        Headers headers =
                new RecordHeaders(RoutingHeaders.of("web", "track", "Bestellung ✓\r\nX-Injected: 1", "ユーザー:1", NOW));
        assertThat(RoutingHeaders.present(headers)).isTrue();
        assertThat(RoutingHeaders.text(headers, RoutingHeaders.EVENT)).isEqualTo("Bestellung ✓\r\nX-Injected: 1");
        assertThat(RoutingHeaders.text(headers, RoutingHeaders.USER)).isEqualTo("ユーザー:1");
        assertThat(RoutingHeaders.text(headers, RoutingHeaders.SOURCE)).isEqualTo("web");
        assertThat(RoutingHeaders.receivedAt(headers)).isEqualTo(NOW);
        assertThat(RoutingHeaders.present(new RecordHeaders(RoutingHeaders.of("web", "identify", null, "u", NOW))))
                .isTrue();
        assertThat(RoutingHeaders.text(
                        new RecordHeaders(RoutingHeaders.of("web", "identify", null, "u", NOW)), RoutingHeaders.EVENT))
                .isNull();
        assertThat(RoutingHeaders.present(new RecordHeaders())).isFalse();
        assertThat(RoutingHeaders.present(null)).isFalse();
    }
}
