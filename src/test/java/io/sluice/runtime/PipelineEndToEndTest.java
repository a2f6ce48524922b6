package io.sluice.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.segment.analytics.Analytics;
import com.segment.analytics.messages.AliasMessage;
import com.segment.analytics.messages.GroupMessage;
import com.segment.analytics.messages.IdentifyMessage;
import com.segment.analytics.messages.PageMessage;
import com.segment.analytics.messages.ScreenMessage;
import com.segment.analytics.messages.TrackMessage;
import io.sluice.config.ConfigLoader;
import io.sluice.config.SluiceConfig;
import io.sluice.support.CountingReceiver;
import io.sluice.support.TestKafka;
import io.sluice.support.TestPostgres;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The whole pipeline in one process on real Kafka and PostgreSQL: the official Segment Java SDK → collector →
 * Kafka → planner → queue database → worker → PostgreSQL warehouse. Every event is exactly one row in the right
 * table, and {@code users} holds the latest traits. The warehouse dedupes by id, so it can only prove that nothing
 * was lost: a second sync of the same source to a webhook receiver that dedupes nothing ({@link CountingReceiver})
 * proves that every event was delivered exactly once.
 */
class PipelineEndToEndTest {

    @Test
    void sdkEventsBecomeWarehouseRowsExactlyOnce() throws Exception {
        String warehouseUrl = TestPostgres.createDatabase("warehouse");
        String queueUrl = TestPostgres.createDatabase("queue");
        CountingReceiver receiver = new CountingReceiver();
        SluiceConfig config = new ConfigLoader(Map.of()).loadYaml("""
                kafka: {bootstrapServers: "%s", eventsTopic: e2e-%s, partitions: 4}
                postgres: {url: "%s", user: sluice}
                collector: {host: 127.0.0.1, port: 0}
                admin: {host: 127.0.0.1, port: 0}
                sources: [{id: web, writeKey: wk_e2e}]
                destinations: [{id: warehouse, type: postgres, url: "%s", user: sluice}, {id: hooks, type: webhook, url: "%s"}]
                syncs:
                  - {id: web-to-warehouse, source: web, destination: warehouse, batch: {maxEvents: 50, maxAge: 200ms}}
                  - {id: web-to-hooks, source: web, destination: hooks, batch: {maxEvents: 50, maxAge: 200ms}}
                planner: {groupId: e2e-%s}
                worker: {pollInterval: 50ms}
                """.formatted(
                        TestKafka.bootstrapServers(),
                        UUID.randomUUID(),
                        queueUrl,
                        warehouseUrl,
                        receiver.url(),
                        UUID.randomUUID()));
        try (receiver;
                Sluice sluice = new Sluice(config, EnumSet.allOf(Sluice.Role.class), false, Clock.systemUTC())) {
            sluice.start();
            Analytics analytics = Analytics.builder("wk_e2e")
                    .endpoint(sluice.collectorUrl())
                    .flushInterval(1, TimeUnit.SECONDS)
                    .build();
            Date earlier = Date.from(Instant.now().minusSeconds(60));
            Date later = Date.from(Instant.now().minusSeconds(30));
            for (int i = 0; i < 40; i++) {
                analytics.enqueue(TrackMessage.builder("Order Completed")
                        .userId("user-" + (i % 5))
                        .messageId("t" + i)
                        .properties(Map.of("revenue", i + 0.5, "sku", "SKU-" + i)));
            }
            analytics.enqueue(IdentifyMessage.builder()
                    .userId("user-1")
                    .messageId("i-new")
                    .timestamp(later)
                    .traits(Map.of("plan", "pro")));
            analytics.enqueue(IdentifyMessage.builder()
                    .userId("user-1")
                    .messageId("i-old")
                    .timestamp(earlier)
                    .traits(Map.of("plan", "free")));
            analytics.enqueue(PageMessage.builder("Pricing").userId("user-2").messageId("p1"));
            analytics.enqueue(
                    ScreenMessage.builder("Home").anonymousId("anon-9").messageId("s1"));
            analytics.enqueue(GroupMessage.builder("acme")
                    .userId("user-3")
                    .messageId("g1")
                    .traits(Map.of("size", 50)));
            analytics.enqueue(AliasMessage.builder("anon-9").userId("user-4").messageId("a1"));
            analytics.flush();
            analytics.shutdown();

            List<String> messageIds = Stream.concat(
                            IntStream.range(0, 40).mapToObj(i -> "t" + i),
                            Stream.of("i-new", "i-old", "p1", "s1", "g1", "a1"))
                    .toList();
            try (Connection warehouse = DriverManager.getConnection(warehouseUrl, "sluice", "");
                    Connection queue = DriverManager.getConnection(queueUrl, "sluice", "")) {
                await().atMost(Duration.ofSeconds(60))
                        .pollInterval(Duration.ofMillis(250))
                        .until(() -> count(warehouse, "web.tracks") == 40
                                && count(warehouse, "web.aliases") == 1
                                && count(warehouse, "web.identifies") == 2
                                && count(warehouse, "web.pages") == 1
                                && count(warehouse, "web.screens") == 1
                                && count(warehouse, "web.groups") == 1
                                && receiver.accepted().keySet().containsAll(messageIds));
                // Every batch row done (none running, pending or dead, no retry chain): no delivery is left that could
                // still bring a duplicate, so the counts below are final.
                await().atMost(Duration.ofSeconds(30))
                        .pollInterval(Duration.ofMillis(100))
                        .until(() -> scalar(
                                        queue,
                                        "SELECT count(*) FILTER (WHERE status <> 'done') + (SELECT count(*) FROM retry_events) FROM batches")
                                .equals("0"));
                assertThat(receiver.accepted())
                        .as("each event delivered exactly once where nothing dedupes")
                        .containsOnlyKeys(messageIds)
                        .allSatisfy((messageId, times) ->
                                assertThat(times).as(messageId).isEqualTo(1));
                assertThat(count(warehouse, "web.tracks")).isEqualTo(40);
                assertThat(count(warehouse, "web.order_completed")).isEqualTo(40);
                assertThat(scalar(warehouse, "SELECT sku FROM web.order_completed WHERE id = 't7'"))
                        .isEqualTo("SKU-7");
                assertThat(scalar(warehouse, "SELECT context_ip FROM web.tracks WHERE id = 't7'"))
                        .isEqualTo("127.0.0.1");
                assertThat(scalar(warehouse, "SELECT context_library_name FROM web.tracks WHERE id = 't7'"))
                        .isEqualTo("analytics-java");
                assertThat(scalar(warehouse, "SELECT event_text FROM web.tracks WHERE id = 't7'"))
                        .isEqualTo("Order Completed");
                assertThat(scalar(warehouse, "SELECT plan FROM web.users WHERE id = 'user-1'"))
                        .as("latest traits win")
                        .isEqualTo("pro");
                assertThat(scalar(warehouse, "SELECT previous_id FROM web.aliases WHERE id = 'a1'"))
                        .isEqualTo("anon-9");
                assertThat(scalar(warehouse, "SELECT group_id FROM web.groups WHERE id = 'g1'"))
                        .isEqualTo("acme");
                assertThat(scalar(warehouse, "SELECT name FROM web.pages WHERE id = 'p1'"))
                        .isEqualTo("Pricing");
            }
        }
    }

    private static long count(Connection c, String table) {
        try {
            return Long.parseLong(scalar(c, "SELECT count(*) FROM " + table));
        } catch (Exception e) {
            return -1; // the table does not exist yet
        }
    }

    private static String scalar(Connection c, String sql) throws Exception {
        try (var rs = c.createStatement().executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }
}
