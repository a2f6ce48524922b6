package io.sluice.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.config.ConfigLoader;
import io.sluice.config.SluiceConfig;
import io.sluice.db.QueueDatabase;
import io.sluice.destination.DeliveryBatch;
import io.sluice.queue.PlannedBatch;
import io.sluice.queue.QueueStore;
import io.sluice.support.MutableClock;
import io.sluice.support.RecordingDestination;
import io.sluice.support.TestEvents;
import io.sluice.support.TestKafka;
import io.sluice.support.TestPostgres;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The worker against real Kafka and PostgreSQL, driven with a test clock: it reads batches back by offset range,
 * applies the sync filter, delivers in order, retries with backoff, and dead-letters what cannot succeed.
 */
class WorkerTest {
    final MutableClock clock = new MutableClock(Instant.parse("2026-05-01T10:00:00Z"));
    final RecordingDestination destination = new RecordingDestination();
    QueueDatabase database;
    QueueStore store;
    String topic;

    @BeforeEach
    void setUp() {
        topic = TestEvents.createTopic("worker", 1);
        database = new QueueDatabase(TestPostgres.createDatabase("worker"), TestPostgres.USER, "", 4);
        database.start();
        store = new QueueStore(database.dataSource(), topic, new SimpleMeterRegistry());
    }

    @AfterEach
    void tearDown() {
        database.close();
    }

    @Test
    void deliversBatchesInOrderApplyingTheSyncFilter() throws Exception {
        List<String[]> records = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            String type = i % 3 == 0 ? "identify" : "track";
            records.add(new String[] {
                i % 5 == 4 ? "app" : "web", "u" + (i % 4), TestEvents.event("web", type, "u" + (i % 4), "E", "m" + i)
            });
        }
        TestEvents.send(topic, 0, records);
        plan(new PlannedBatch("only-tracks", 0, 0, 9, 6, 600), new PlannedBatch("only-tracks", 0, 10, 29, 11, 1100));
        try (Worker worker = worker(syncYaml("only-tracks", "filter: {types: [track]}"), 20)) {
            assertThat(worker.runOnce()).isEqualTo(1);
            assertThat(worker.runOnce()).as("second batch waited for the first").isEqualTo(1);
            assertThat(worker.runOnce()).isZero();
        }
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 30; i++) if (i % 3 != 0 && i % 5 != 4) expected.add("m" + i);
        assertThat(destination.events())
                .extracting(e -> e.get("messageId").asText())
                .containsExactlyElementsOf(expected);
        assertThat(destination.batches())
                .extracting(b -> b.idempotencyKey())
                .containsExactly("only-tracks:0:0-9", "only-tracks:0:10-29");
        assertThat(statuses()).containsExactly("done", "done");
    }

    @Test
    void retriableFailuresBackOffAndPermanentOnesAreDeadLetteredWhileLaterBatchesContinue() throws Exception {
        List<String[]> records = new ArrayList<>();
        for (int i = 0; i < 20; i++)
            records.add(new String[] {"web", "u", TestEvents.event("web", "track", "u", "E", "m" + i)});
        TestEvents.send(topic, 0, records);
        plan(new PlannedBatch("s", 0, 0, 9, 10, 1000), new PlannedBatch("s", 0, 10, 19, 10, 1000));
        int[] calls = {0};
        destination.failWith(batch ->
                batch.origin() instanceof DeliveryBatch.BatchRange range && range.firstOffset() == 0 && calls[0]++ == 0
                        ? RecordingDestination.retriable("HTTP 503")
                        : null);
        try (Worker worker = worker(syncYaml("s", ""), 20)) {
            assertThat(worker.runOnce()).isEqualTo(1);
            assertThat(lastErrors()).containsExactly("HTTP 503", null);
            assertThat(worker.runOnce())
                    .as("backing off, and the next batch waits behind it")
                    .isZero();
            clock.tick(Duration.ofSeconds(2)); // retryBase 1s: the first retry comes within 1 s
            assertThat(worker.runOnce()).isEqualTo(1);
            assertThat(attempts()).containsExactly(2, 0);

            destination.failWith(batch -> RecordingDestination.permanent("value rejected"));
            assertThat(worker.runOnce()).isEqualTo(1);
            assertThat(statuses()).containsExactly("done", "dead");
            assertThat(lastErrors()).containsExactly(null, "value rejected");
        }
        assertThat(destination.events()).hasSize(10);
    }

    @Test
    void retriableFailuresBecomeDeadLettersAfterMaxAttempts() throws Exception {
        TestEvents.send(
                topic, 0, List.<String[]>of(new String[] {"web", "u", TestEvents.event("web", "track", "u", "E", "m0")
                }));
        plan(new PlannedBatch("s", 0, 0, 0, 1, 100));
        destination.failWith(batch -> RecordingDestination.retriable("timeout"));
        try (Worker worker = worker(syncYaml("s", ""), 2)) {
            assertThat(worker.runOnce()).isEqualTo(1);
            clock.tick(Duration.ofMinutes(10));
            assertThat(worker.runOnce()).isEqualTo(1);
        }
        assertThat(statuses()).containsExactly("dead");
        assertThat(attempts()).containsExactly(2);
    }

    @Test
    void aKafkaDestinationsRetrySettingsGovernItsBatchRetries() throws Exception {
        TestEvents.send(
                topic, 0, List.<String[]>of(new String[] {"web", "u", TestEvents.event("web", "track", "u", "E", "m0")
                }));
        plan(new PlannedBatch("s", 0, 0, 0, 1, 100));
        destination.failWith(batch -> RecordingDestination.retriable("broker unavailable"));
        String yaml = """
                sources: [{id: web, writeKey: k1}]
                destinations: [{id: rec, type: kafka, bootstrapServers: "127.0.0.1:1", topic: out,
                                retry: {base: 10s, cap: 10s, maxAttempts: 2}}]
                syncs: [{id: s, source: web, destination: rec}]
                """;
        try (Worker worker = worker(yaml, 20)) { // worker.maxAttempts 20 and retryBase 1s are overridden by retry.*
            assertThat(worker.runOnce()).isEqualTo(1);
            clock.tick(Duration.ofSeconds(4));
            assertThat(worker.runOnce())
                    .as("retry.base 10s: at least 5 s of backoff")
                    .isZero();
            clock.tick(Duration.ofSeconds(6));
            assertThat(worker.runOnce()).isEqualTo(1);
        }
        assertThat(statuses()).containsExactly("dead");
        assertThat(attempts()).containsExactly(2);
    }

    private String syncYaml(String syncId, String extra) {
        return """
                sources: [{id: web, writeKey: k1}, {id: app, writeKey: k2}]
                destinations: [{id: rec, type: postgres, url: "jdbc:postgresql://127.0.0.1:1/unused"}]
                syncs:
                  - id: %s
                    source: web
                    destination: rec
                    %s
                """.formatted(syncId, extra);
    }

    private Worker worker(String yaml, int maxAttempts) {
        SluiceConfig config =
                new ConfigLoader(Map.of()).loadYaml(yaml + "worker: {maxAttempts: " + maxAttempts + "}\n");
        return new Worker(
                config,
                new WorkerStores(store, null, null),
                Map.of("rec", destination),
                null,
                new BatchReader(TestKafka.clients(), config.worker().concurrency()),
                clock,
                new SimpleMeterRegistry(),
                "test-worker");
    }

    private void plan(PlannedBatch... batches) throws Exception {
        store.recordPlan(List.of(batches), List.of(), clock.instant());
    }

    private List<String> statuses() throws Exception {
        return column("status", rs -> rs.getString(1));
    }

    private List<String> lastErrors() throws Exception {
        return column("last_error", rs -> rs.getString(1));
    }

    private List<Integer> attempts() throws Exception {
        return column("attempts", rs -> rs.getInt(1));
    }

    private <T> List<T> column(String name, SqlFunction<T> read) throws Exception {
        List<T> values = new ArrayList<>();
        try (var c = database.dataSource().getConnection();
                var rs = c.createStatement().executeQuery("SELECT " + name + " FROM batches ORDER BY first_offset")) {
            while (rs.next()) values.add(read.apply(rs));
        }
        return values;
    }

    interface SqlFunction<T> {
        T apply(ResultSet rs) throws Exception;
    }
}
