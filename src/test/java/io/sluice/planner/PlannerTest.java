package io.sluice.planner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.config.ConfigLoader;
import io.sluice.config.SluiceConfig;
import io.sluice.db.QueueDatabase;
import io.sluice.queue.QueueStore;
import io.sluice.support.TestEvents;
import io.sluice.support.TestKafka;
import io.sluice.support.TestPostgres;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The planner on real Kafka and PostgreSQL: batches of one sync tile each partition's offsets without gaps or
 * overlaps, count only the sync's events, and a restarted planner continues exactly where the database says.
 */
class PlannerTest {
    QueueDatabase database;
    String topic;

    @BeforeEach
    void setUp() {
        topic = TestEvents.createTopic("planner", 2);
        database = new QueueDatabase(TestPostgres.createDatabase("planner"), TestPostgres.USER, "", 4);
        database.start();
    }

    @AfterEach
    void tearDown() {
        database.close();
    }

    @Test
    void batchesTileThePartitionsAndARestartContinuesWithoutDuplicates() throws Exception {
        send(0, 25, 5);
        send(1, 7, 0);
        try (Planner planner = planner()) {
            planner.start();
            await().atMost(Duration.ofSeconds(30)).until(() -> matched("web-all") == 32 && matched("web-tracks") == 17);
        }
        send(0, 12, 0);
        send(1, 3, 3);
        try (Planner planner = planner()) {
            planner.start();
            await().atMost(Duration.ofSeconds(30)).until(() -> matched("web-all") == 47);
            await().atMost(Duration.ofSeconds(30)).until(() -> matched("web-tracks") == 25);
            // Wall clock on purpose: anything planned twice would show up within a second (counts only grow).
            await().during(Duration.ofSeconds(1))
                    .atMost(Duration.ofSeconds(5))
                    .until(() -> matched("web-all") == 47 && matched("web-tracks") == 25);
        }
        assertThat(matched("web-all")).isEqualTo(47);
        assertThat(matched("web-tracks")).isEqualTo(25);
        for (String sync : List.of("web-all", "web-tracks")) {
            for (int partition = 0; partition < 2; partition++) {
                List<long[]> ranges = ranges(sync, partition);
                for (int i = 1; i < ranges.size(); i++) {
                    assertThat(ranges.get(i)[0])
                            .as(sync + " p" + partition + " tiles")
                            .isEqualTo(ranges.get(i - 1)[1] + 1);
                }
                assertThat(ranges)
                        .allSatisfy(r ->
                                assertThat(r[2]).as("matched events per batch").isBetween(1L, 10L));
            }
        }
    }

    /** Sends {@code web} events (every other one a track) and {@code other} events of another source. */
    private void send(int partition, int web, int other) {
        List<String[]> records = new ArrayList<>();
        for (int i = 0; i < web; i++) {
            String type = i % 2 == 0 ? "track" : "identify";
            records.add(
                    new String[] {"web", "u" + i, TestEvents.event("web", type, "u" + i, "E", "w" + partition + "-" + i)
                    });
        }
        for (int i = 0; i < other; i++) {
            records.add(new String[] {
                "app", "a" + i, TestEvents.event("app", "track", "a" + i, "E", "a" + partition + "-" + i)
            });
        }
        TestEvents.send(topic, partition, records);
    }

    private Planner planner() {
        SluiceConfig config = new ConfigLoader(Map.of()).loadYaml("""
                kafka: {eventsTopic: %s}
                sources: [{id: web, writeKey: k1}, {id: app, writeKey: k2}]
                destinations: [{id: d, type: postgres, url: "jdbc:postgresql://127.0.0.1:1/unused"}]
                syncs:
                  - {id: web-all, source: web, destination: d, batch: {maxEvents: 10, maxAge: 200ms}}
                  - {id: web-tracks, source: web, destination: d, filter: {types: [track]}, batch: {maxEvents: 10, maxAge: 200ms}}
                planner: {groupId: planner-%s}
                """.formatted(topic, topic));
        QueueStore store = new QueueStore(database.dataSource(), topic, new SimpleMeterRegistry());
        return new Planner(config, TestKafka.clients(), store, Clock.systemUTC(), new SimpleMeterRegistry());
    }

    private long matched(String sync) throws Exception {
        try (var c = database.dataSource().getConnection();
                var ps = c.prepareStatement("SELECT coalesce(sum(event_count), 0) FROM batches WHERE sync_id = ?")) {
            ps.setString(1, sync);
            try (var rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private List<long[]> ranges(String sync, int partition) throws Exception {
        List<long[]> ranges = new ArrayList<>();
        try (var c = database.dataSource().getConnection();
                var ps = c.prepareStatement(
                        "SELECT first_offset, last_offset, event_count FROM batches WHERE sync_id = ? AND kafka_partition = ? ORDER BY first_offset")) {
            ps.setString(1, sync);
            ps.setInt(2, partition);
            try (var rs = ps.executeQuery()) {
                while (rs.next()) ranges.add(new long[] {rs.getLong(1), rs.getLong(2), rs.getLong(3)});
            }
        }
        return ranges;
    }
}
