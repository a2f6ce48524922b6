package io.sluice.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.config.ConfigLoader;
import io.sluice.config.SluiceConfig;
import io.sluice.db.QueueDatabase;
import io.sluice.delivery.DeliveryException;
import io.sluice.delivery.FailureClass;
import io.sluice.failover.WriteGate;
import io.sluice.queue.DeadLetterStore;
import io.sluice.queue.DeliveryAccounting;
import io.sluice.queue.PlannedBatch;
import io.sluice.queue.QueueStore;
import io.sluice.queue.SyncCounts;
import io.sluice.support.MutableClock;
import io.sluice.support.RecordingDestination;
import io.sluice.support.TestEvents;
import io.sluice.support.TestKafka;
import io.sluice.support.TestPostgres;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 25's accounting adds up also when a batch's outcome cannot be recorded and {@link OutcomeFallback} records it
 * dead instead: received = delivered + dead-lettered (+ dropped, discarded), against real Kafka and PostgreSQL, with
 * the queue database forced to refuse the outcome (a trigger refusing a dead letter's control character, as
 * PostgreSQL refused a NUL) and then even the escaped dead letters.
 */
class FallbackAccountingTest {
    static final int EVENTS = 5;
    final MutableClock clock = new MutableClock(Instant.parse("2026-05-01T10:00:00Z"));
    final RecordingDestination destination = new RecordingDestination();
    QueueDatabase database;
    QueueStore store;
    DeadLetterStore deadLetters;
    String topic;

    @BeforeEach
    void setUp() throws Exception {
        topic = TestEvents.createTopic("fallback-counts", 1);
        database = new QueueDatabase(TestPostgres.createDatabase("fallback_counts"), TestPostgres.USER, "", 4);
        database.start();
        WriteGate gate = new WriteGate(clock, Duration.ZERO);
        store = new QueueStore(database.dataSource(), topic, new SimpleMeterRegistry(), gate);
        deadLetters = new DeadLetterStore(database.dataSource(), gate);
        List<String[]> records = new ArrayList<>();
        for (int i = 0; i < EVENTS; i++)
            records.add(new String[] {
                "web",
                "u" + i,
                TestEvents.event("web", "track", "u" + i, "E", i == 1 || i == 3 ? "bad\\u0001id" + i : "ok" + i)
            });
        TestEvents.send(topic, 0, records);
        // planned as the planner does: the batch and the received count in one transaction
        SyncCounts received = new SyncCounts();
        received.add("s", clock.instant(), SyncCounts.Column.RECEIVED, EVENTS);
        store.recordPlan(
                List.of(new PlannedBatch("s", 0, 0, EVENTS - 1, EVENTS, 500)), List.of(), received, clock.instant());
        destination.failEvents(e -> e.get("messageId").asText().startsWith("bad")
                ? DeliveryException.of(FailureClass.EVENT_DATA, "HTTP 400: refused", null)
                : null);
    }

    @AfterEach
    void tearDown() {
        database.close();
    }

    @Test
    void aBatchRecordedDeadByTheFallbackCountsItsDeliveredAndItsDeadLetters() throws Exception {
        refuseDeadLettersWith("[\\x01-\\x1f]"); // the outcome's own dead letters; the escaped ones pass
        runAndFlush();

        assertThat(deadLetters.list(null, null, true, 100)).hasSize(2);
        DeliveryAccounting.Totals totals = totals();
        assertThat(totals.received()).isEqualTo(EVENTS);
        assertThat(totals.delivered())
                .as("delivered, as the destination saw")
                .isEqualTo(destination.events().size())
                .isEqualTo(3);
        assertThat(totals.deadLettered()).as("the escaped dead letters stored").isEqualTo(2);
        assertThat(sumOfFates(totals)).as("received = the sum of fates").isEqualTo(totals.received());
    }

    @Test
    void aBatchRecordedDeadAloneStillCountsItsUndeliveredEvents() throws Exception {
        refuseDeadLettersWith("bad"); // escaped or not: the batch is recorded dead alone, the ids logged
        runAndFlush();

        assertThat(deadLetters.list(null, null, true, 100)).isEmpty();
        DeliveryAccounting.Totals totals = totals();
        assertThat(totals.delivered()).isEqualTo(destination.events().size()).isEqualTo(3);
        assertThat(totals.deadLettered()).as("their fate is the dead batch").isEqualTo(2);
        assertThat(sumOfFates(totals)).isEqualTo(totals.received()).isEqualTo(EVENTS);
    }

    private void runAndFlush() throws Exception {
        try (Worker worker = worker()) {
            assertThat(worker.runOnce()).isEqualTo(1);
            worker.heartbeat(); // the counts are flushed with the heartbeat, not in a transaction of their own
            clock.tick(Duration.ofMinutes(5)); // far past the lease: nothing is left to rerun
            assertThat(worker.runOnce()).isZero();
        }
        try (var c = database.dataSource().getConnection();
                var rs = c.createStatement().executeQuery("SELECT status FROM batches")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("dead");
        }
    }

    private static long sumOfFates(DeliveryAccounting.Totals t) {
        return t.delivered() + t.deadLettered() + t.functionDropped() + t.filtered() + t.discarded();
    }

    private DeliveryAccounting.Totals totals() throws Exception {
        return new DeliveryAccounting(database.dataSource())
                .read(
                        "s",
                        "web",
                        clock.instant().minus(Duration.ofHours(1)),
                        clock.instant().plus(Duration.ofHours(1)),
                        Duration.ofHours(1))
                .totals();
    }

    private void refuseDeadLettersWith(String pattern) throws Exception {
        try (var c = database.dataSource().getConnection();
                var s = c.createStatement()) {
            s.execute("""
                    CREATE FUNCTION refuse_letter() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN
                      IF NEW.message_id ~ '%s' THEN
                        RAISE EXCEPTION 'invalid byte sequence in %%', NEW.message_id USING ERRCODE = '22021';
                      END IF;
                      RETURN NEW;
                    END $$""".formatted(pattern));
            s.execute("CREATE TRIGGER refuse_letter BEFORE INSERT ON dead_letters FOR EACH ROW"
                    + " EXECUTE FUNCTION refuse_letter()");
        }
    }

    private Worker worker() {
        SluiceConfig config = new ConfigLoader(Map.of()).loadYaml("""
                sources: [{id: web, writeKey: k1}]
                destinations: [{id: rec, type: postgres, url: "jdbc:postgresql://127.0.0.1:1/unused"}]
                syncs: [{id: s, source: web, destination: rec}]
                worker: {maxAttempts: 20}
                """);
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
}
