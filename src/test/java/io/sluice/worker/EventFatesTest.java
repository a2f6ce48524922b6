package io.sluice.worker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.config.ConfigLoader;
import io.sluice.config.SluiceConfig;
import io.sluice.db.QueueDatabase;
import io.sluice.delivery.DeliveryException;
import io.sluice.delivery.FailureClass;
import io.sluice.failover.WriteGate;
import io.sluice.queue.DeadLetter;
import io.sluice.queue.DeadLetterStore;
import io.sluice.queue.PlannedBatch;
import io.sluice.queue.QueueStore;
import io.sluice.support.MutableClock;
import io.sluice.support.RecordingDestination;
import io.sluice.support.TestEvents;
import io.sluice.support.TestKafka;
import io.sluice.support.TestPostgres;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Every event of a claimed batch ends with one visible fate, against real Kafka and PostgreSQL (issue 22): a batch
 * refused as a whole for some events' data is split so the others are delivered; a dead batch's events are dead
 * letters; an outcome the queue database refuses for the events' content ends the batch instead of rerunning it.
 */
class EventFatesTest {
    final MutableClock clock = new MutableClock(Instant.parse("2026-05-01T10:00:00Z"));
    final RecordingDestination destination = new RecordingDestination();
    QueueDatabase database;
    QueueStore store;
    DeadLetterStore deadLetters;
    String topic;

    @BeforeEach
    void setUp() {
        topic = TestEvents.createTopic("fates", 1);
        database = new QueueDatabase(TestPostgres.createDatabase("fates"), TestPostgres.USER, "", 4);
        database.start();
        WriteGate gate = new WriteGate(clock, Duration.ZERO);
        store = new QueueStore(database.dataSource(), topic, new SimpleMeterRegistry(), gate);
        deadLetters = new DeadLetterStore(database.dataSource(), gate);
    }

    @AfterEach
    void tearDown() {
        database.close();
    }

    @Test
    void aBatchRefusedForSomeEventsDataDeliversTheOthersAndDeadLettersOnlyThose() throws Exception {
        int n = 16;
        Set<String> poison = Set.of("m5", "m11");
        send(n, i -> "m" + i);
        plan(new PlannedBatch("s", 0, 0, n - 1, n, 1000));
        AtomicInteger calls = new AtomicInteger();
        destination.failWith(batch -> {
            calls.incrementAndGet();
            boolean refused = batch.events().stream()
                    .anyMatch(e -> poison.contains(e.get("messageId").asText()));
            // What the warehouse sees for a 10 KB messageId: the whole load fails, naming no event.
            return refused ? new SQLException("index row size 10040 exceeds btree maximum", "54000") : null;
        });
        try (Worker worker = worker(20)) {
            assertThat(worker.runOnce()).isEqualTo(1);
        }

        assertThat(destination.events())
                .extracting(e -> e.get("messageId").asText())
                .as("every innocent event delivered once, in order, in the same claim")
                .containsExactlyElementsOf(
                        ids(n).stream().filter(id -> !poison.contains(id)).toList());
        assertThat(deadLetters()).extracting(DeadLetter::messageId).containsExactlyInAnyOrderElementsOf(poison);
        assertThat(deadLetters()).allSatisfy(d -> assertThat(d.error()).contains("54000", "event " + d.messageId()));
        assertThat(column("status")).containsExactly("done");
        // 1 whole + at most 2 halves per level for each refused event: O(k log n).
        assertThat(calls.get()).isLessThanOrEqualTo(1 + 2 * poison.size() * 4);
        assertThat(destination.batches())
                .extracting(b -> b.idempotencyKey())
                .allMatch(key -> key.startsWith("s:0:0-15~"), "each subset named by its own key");
    }

    @Test
    void aDeadBatchsEventsAreDeadLettersWithTheReason() throws Exception {
        send(3, i -> "d" + i);
        plan(new PlannedBatch("s", 0, 0, 2, 3, 300));
        destination.failWith(batch -> new SQLException("permission denied for schema web", "42501"));
        try (Worker worker = worker(20)) {
            assertThat(worker.runOnce()).isEqualTo(1);
        }
        assertThat(column("status")).containsExactly("dead");
        assertThat(deadLetters()).extracting(DeadLetter::messageId).containsExactlyInAnyOrder("d0", "d1", "d2");
        assertThat(deadLetters()).allSatisfy(d -> assertThat(d.error()).contains("42501", "permission denied"));
    }

    @Test
    void aBatchThatUsedUpItsRetriesLeavesItsEventsAsDeadLetters() throws Exception {
        send(2, i -> "r" + i);
        plan(new PlannedBatch("s", 0, 0, 1, 2, 200));
        destination.failWith(batch -> RecordingDestination.retriable("HTTP 500"));
        try (Worker worker = worker(2)) {
            assertThat(worker.runOnce()).isEqualTo(1);
            clock.tick(Duration.ofMinutes(10));
            assertThat(worker.runOnce()).isEqualTo(1);
        }
        assertThat(column("status")).containsExactly("dead");
        assertThat(deadLetters())
                .extracting(DeadLetter::messageId, DeadLetter::attempts)
                .containsExactlyInAnyOrder(
                        org.assertj.core.groups.Tuple.tuple("r0", 2), org.assertj.core.groups.Tuple.tuple("r1", 2));
    }

    @Test
    void anOutcomeTheQueueDatabaseRefusesForAnEventsContentEndsTheBatchInsteadOfRerunningIt() throws Exception {
        // The queue database refuses a control character in a dead letter's id, as it refused a NUL (22021 "invalid
        // byte sequence"). A trigger stands in for any such refusal, whatever the storage accepts by now.
        try (var c = database.dataSource().getConnection();
                var s = c.createStatement()) {
            s.execute("""
                    CREATE FUNCTION refuse_control() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN
                      IF NEW.message_id ~ '[\\x01-\\x1f]' THEN
                        RAISE EXCEPTION 'invalid byte sequence in %', NEW.message_id USING ERRCODE = '22021';
                      END IF;
                      RETURN NEW;
                    END $$""");
            s.execute("CREATE TRIGGER refuse_control BEFORE INSERT ON dead_letters FOR EACH ROW"
                    + " EXECUTE FUNCTION refuse_control()");
        }
        send(3, i -> i == 1 ? "bad\\u0001id" : "ok" + i);
        plan(new PlannedBatch("s", 0, 0, 2, 3, 300));
        destination.failEvents(e -> e.get("messageId").asText().startsWith("bad")
                ? DeliveryException.of(FailureClass.EVENT_DATA, "HTTP 400: refused", null)
                : null);
        try (Worker worker = worker(20)) {
            assertThat(worker.runOnce()).isEqualTo(1);
            clock.tick(Duration.ofMinutes(5)); // far past the lease: a batch left running would be claimed again
            assertThat(worker.runOnce()).as("nothing to rerun").isZero();
        }
        assertThat(column("status")).containsExactly("dead");
        assertThat(column("last_error")).singleElement().asString().contains("refused this batch's outcome", "22021");
        assertThat(destination.events())
                .extracting(e -> e.get("messageId").asText())
                .as("the other events were delivered once, not on every lease expiry")
                .containsExactly("ok0", "ok2");
        assertThat(deadLetters()).singleElement().satisfies(d -> {
            assertThat(d.messageId()).isEqualTo("bad\\u0001id");
            assertThat(d.error()).contains("stored escaped", "HTTP 400: refused");
        });
    }

    private Worker worker(int maxAttempts) {
        SluiceConfig config = new ConfigLoader(Map.of()).loadYaml("""
                sources: [{id: web, writeKey: k1}]
                destinations: [{id: rec, type: postgres, url: "jdbc:postgresql://127.0.0.1:1/unused"}]
                syncs: [{id: s, source: web, destination: rec}]
                worker: {maxAttempts: %d}
                """.formatted(maxAttempts));
        return new Worker(
                config,
                new WorkerStores(store, null, deadLetters),
                Map.of("rec", destination),
                null,
                new BatchReader(TestKafka.clients(), config.worker().concurrency()),
                clock,
                new SimpleMeterRegistry(),
                "test-worker");
    }

    private void send(int n, java.util.function.IntFunction<String> id) throws Exception {
        List<String[]> records = new ArrayList<>();
        for (int i = 0; i < n; i++)
            records.add(new String[] {
                "web", "u" + (i % 3), TestEvents.event("web", "track", "u" + (i % 3), "E", id.apply(i))
            });
        TestEvents.send(topic, 0, records);
    }

    private static List<String> ids(int n) {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < n; i++) ids.add("m" + i);
        return ids;
    }

    private void plan(PlannedBatch... batches) throws Exception {
        store.recordPlan(List.of(batches), List.of(), clock.instant());
    }

    private List<DeadLetter> deadLetters() throws Exception {
        return deadLetters.list(null, null, true, 100);
    }

    private List<String> column(String name) throws Exception {
        List<String> values = new ArrayList<>();
        try (var c = database.dataSource().getConnection();
                var rs = c.createStatement().executeQuery("SELECT " + name + " FROM batches ORDER BY first_offset")) {
            while (rs.next()) values.add(rs.getString(1));
        }
        return values;
    }

    @SuppressWarnings("unused")
    private static String id(ObjectNode event) {
        return event.get("messageId").asText();
    }
}
