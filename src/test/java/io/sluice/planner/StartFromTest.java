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
import io.sluice.support.TimedEvents;
import io.sluice.support.TimedEvents.Timed;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code syncs[].startFrom} on real Kafka and PostgreSQL: a new sync starts at the oldest event, at the end of the
 * topic (recorded at once, so a restart does not move it), or at the first event published at or after a time.
 */
class StartFromTest {
    static final Instant T0 = Instant.parse("2026-12-01T08:00:00Z");
    static final Instant T1 = Instant.parse("2026-12-01T09:00:00Z");

    QueueDatabase database;
    String topic;

    @BeforeEach
    void setUp() {
        topic = TestEvents.createTopic("start-from", 1);
        database = new QueueDatabase(TestPostgres.createDatabase("startfrom"), TestPostgres.USER, "", 4);
        database.start();
    }

    @AfterEach
    void tearDown() {
        database.close();
    }

    @Test
    void earliestLatestAndATimeStartWhereTheySay() throws Exception {
        List<Timed> records = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            records.add(new Timed(
                    0, "web", "u" + i, TestEvents.event("web", "track", "u" + i, "E", "m" + i), i < 8 ? T0 : T1));
        }
        TimedEvents.send(TestKafka.bootstrapServers(), topic, records);
        try (Planner planner = planner()) {
            planner.start();
            await().atMost(Duration.ofSeconds(60))
                    .until(() -> planned("from-earliest") == 20 && planned("from-t1") == 12);
            await().atMost(Duration.ofSeconds(60)).until(() -> position("from-latest") == 20);
        }
        assertThat(planned("from-latest")).isZero();
        assertThat(firstOffset("from-t1")).isEqualTo(8);
        TimedEvents.send(
                TestKafka.bootstrapServers(),
                topic,
                List.of(new Timed(0, "web", "u", TestEvents.event("web", "track", "u", "E", "later"), T1)));
        try (Planner planner = planner()) {
            planner.start();
            await().atMost(Duration.ofSeconds(60)).until(() -> planned("from-latest") == 1);
        }
        assertThat(firstOffset("from-latest"))
                .as("the recorded start held across the restart")
                .isEqualTo(20);
        assertThat(planned("from-earliest")).isEqualTo(21);
    }

    private Planner planner() {
        SluiceConfig config = new ConfigLoader(Map.of()).loadYaml("""
                kafka: {eventsTopic: %s}
                sources: [{id: web, writeKey: k1}]
                destinations: [{id: d, type: postgres, url: "jdbc:postgresql://127.0.0.1:1/unused"}]
                syncs:
                  - {id: from-earliest, source: web, destination: d, batch: {maxEvents: 5, maxAge: 100ms}}
                  - {id: from-latest, source: web, destination: d, startFrom: latest, batch: {maxEvents: 5, maxAge: 100ms}}
                  - {id: from-t1, source: web, destination: d, startFrom: "%s", batch: {maxEvents: 5, maxAge: 100ms}}
                planner: {groupId: start-%s}
                """.formatted(topic, T1, topic));
        QueueStore store = new QueueStore(database.dataSource(), topic, new SimpleMeterRegistry());
        return new Planner(config, TestKafka.clients(), store, Clock.systemUTC(), new SimpleMeterRegistry());
    }

    private long planned(String sync) throws Exception {
        return scalar("SELECT coalesce(sum(event_count), 0) FROM batches WHERE sync_id = '" + sync + "'");
    }

    private long firstOffset(String sync) throws Exception {
        return scalar("SELECT min(first_offset) FROM batches WHERE sync_id = '" + sync + "'");
    }

    private long position(String sync) throws Exception {
        return scalar("SELECT coalesce(max(next_offset), -1) FROM planner_progress WHERE sync_id = '" + sync + "'");
    }

    private long scalar(String sql) throws Exception {
        try (var c = database.dataSource().getConnection();
                var s = c.createStatement();
                var rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
