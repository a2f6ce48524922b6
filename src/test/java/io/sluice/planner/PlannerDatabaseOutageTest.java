package io.sluice.planner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.config.ConfigLoader;
import io.sluice.config.SluiceConfig;
import io.sluice.db.QueueDatabase;
import io.sluice.embedded.EmbeddedPostgres;
import io.sluice.queue.QueueStore;
import io.sluice.support.TestEvents;
import io.sluice.support.TestKafka;
import io.sluice.support.WallClock;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.Test;

/**
 * With the queue database down, the planner pauses (events wait in Kafka) but stays in its consumer group; when
 * the database is back it resumes by itself and plans every event exactly once.
 */
class PlannerDatabaseOutageTest {

    @Test
    void pausesWhileTheDatabaseIsDownAndResumesByItself() throws Exception {
        String topic = TestEvents.createTopic("planner-outage", 1);
        String group = "planner-" + topic;
        EmbeddedPostgres postgres = new EmbeddedPostgres(TestKafka.tempDir("sluice-outage-pg"), 0, "sluice");
        postgres.start();
        QueueDatabase database = new QueueDatabase(postgres.jdbcUrl("sluice"), "sluice", "", 4);
        database.start();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        SluiceConfig config = new ConfigLoader(Map.of()).loadYaml("""
                kafka: {eventsTopic: %s}
                sources: [{id: web, writeKey: k1}]
                destinations: [{id: d, type: postgres, url: "jdbc:postgresql://127.0.0.1:1/unused"}]
                syncs: [{id: s, source: web, destination: d, batch: {maxEvents: 5, maxAge: 100ms}}]
                planner: {groupId: %s}
                """.formatted(topic, group));
        QueueStore store = new QueueStore(database.dataSource(), topic, registry);
        try (Planner planner = new Planner(config, TestKafka.clients(), store, Clock.systemUTC(), registry)) {
            planner.start();
            send(topic, 0, 10);
            await().atMost(Duration.ofSeconds(30)).until(() -> planned(database) == 10);

            postgres.close();
            send(topic, 10, 10);
            WallClock.waitOut(
                    Duration.ofSeconds(3), "an outage that lasts: the planner keeps polling and stays in its group");
            try (Admin admin =
                    Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, TestKafka.bootstrapServers()))) {
                var description =
                        admin.describeConsumerGroups(List.of(group)).all().get().get(group);
                assertThat(description.members())
                        .as("still a member of its group")
                        .hasSize(1);
            }

            postgres.start();
            await().atMost(Duration.ofSeconds(60)).until(() -> planned(database) >= 20);
            // Wall clock on purpose: nothing may be planned twice after the outage (counts only grow).
            await().during(Duration.ofMillis(500))
                    .atMost(Duration.ofSeconds(10))
                    .until(() -> planned(database) == 20);
            assertThat(planned(database)).isEqualTo(20);
        } finally {
            database.close();
            postgres.close();
        }
    }

    private static void send(String topic, int from, int count) {
        List<String[]> records = new ArrayList<>();
        for (int i = from; i < from + count; i++)
            records.add(new String[] {"web", "u" + i, TestEvents.event("web", "track", "u" + i, "E", "m" + i)});
        TestEvents.send(topic, 0, records);
    }

    private static long planned(QueueDatabase database) {
        try (var c = database.dataSource().getConnection();
                var rs = c.createStatement().executeQuery("SELECT coalesce(sum(event_count), 0) FROM batches")) {
            rs.next();
            return rs.getLong(1);
        } catch (Exception e) {
            return -1;
        }
    }
}
