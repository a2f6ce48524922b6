package io.sluice.worker;

import static org.assertj.core.api.Assertions.assertThat;

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
import io.sluice.queue.RetryStore;
import io.sluice.support.MutableClock;
import io.sluice.support.RecordingDestination;
import io.sluice.support.TestEvents;
import io.sluice.support.TestKafka;
import io.sluice.support.TestPostgres;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Partial failures of an event-by-event destination: delivered events are never sent again, failed ones wait in
 * the per-sync retry queue with backoff, a user's later events queue behind them (other users flow), permanent
 * failures become dead letters, and a replay delivers dead letters again.
 */
class RetryQueueTest {
    final MutableClock clock = new MutableClock(Instant.parse("2026-05-01T10:00:00Z"));
    final RecordingDestination destination = new RecordingDestination();
    final Set<String> failing = new HashSet<>();
    QueueDatabase database;
    QueueStore store;
    RetryStore retries;
    DeadLetterStore deadLetters;
    String topic;

    @BeforeEach
    void setUp() {
        topic = TestEvents.createTopic("retry", 1);
        database = new QueueDatabase(TestPostgres.createDatabase("retry"), TestPostgres.USER, "", 4);
        database.start();
        WriteGate gate = new WriteGate(clock, Duration.ZERO);
        store = new QueueStore(database.dataSource(), topic, new SimpleMeterRegistry(), gate);
        retries = new RetryStore(database.dataSource(), gate);
        deadLetters = new DeadLetterStore(database.dataSource(), gate);
        destination.failEvents(event -> {
            String id = event.get("messageId").asText();
            if (id.startsWith("bad")) return DeliveryException.permanent("HTTP 400: rejected " + id, null);
            return failing.contains(id) ? DeliveryException.retriable("HTTP 503", null) : null;
        });
    }

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    private double retryGauge(String name) {
        return registry.get(name)
                .tag("sync", "s")
                .tag("destination", "rec")
                .gauge()
                .value();
    }

    @AfterEach
    void tearDown() {
        database.close();
    }

    @Test
    void failedEventsRetryInOrderPerUserWithoutResendingTheDelivered() throws Exception {
        send(new String[] {"u1", "e1"}, new String[] {"u1", "e2"}, new String[] {"u2", "e3"});
        plan(new PlannedBatch("s", 0, 0, 2, 3, 300));
        failing.add("e1");
        try (Worker worker = worker()) {
            assertThat(worker.runOnce()).isEqualTo(1);
            assertThat(delivered()).containsExactly("e3");

            send(new String[] {"u1", "e4"}, new String[] {"u2", "e5"});
            plan(new PlannedBatch("s", 0, 3, 4, 2, 200));
            assertThat(worker.runOnce()).isEqualTo(1);
            assertThat(delivered()).as("u2 flows; u1's e4 waits behind e1").containsExactly("e3", "e5");

            assertThat(worker.retryDue()).as("not due yet").isZero();
            worker.maintain();
            assertThat(retryGauge("sluice.retry.queue.depth"))
                    .as("e1 failed, e2 and e4 wait behind it")
                    .isEqualTo(3);
            failing.clear();
            clock.tick(Duration.ofSeconds(2));
            assertThat(worker.retryDue()).isEqualTo(1);
            assertThat(delivered()).containsExactly("e3", "e5", "e1", "e2", "e4");
            clock.tick(Duration.ofSeconds(10));
            assertThat(worker.retryDue()).as("the queue is empty").isZero();
            worker.maintain();
            assertThat(retryGauge("sluice.retry.queue.depth")).isZero();
            assertThat(retryGauge("sluice.retry.queue.oldest.seconds")).isZero();
        }
    }

    @Test
    void permanentFailuresAreDeadLetteredAndReplayDeliversThem() throws Exception {
        send(new String[] {"u1", "bad-1"}, new String[] {"u1", "e2"});
        plan(new PlannedBatch("s", 0, 0, 1, 2, 200));
        try (Worker worker = worker()) {
            worker.runOnce();
            assertThat(delivered())
                    .as("a permanent failure does not hold the user's later events")
                    .containsExactly("e2");
            List<DeadLetter> letters = deadLetters.list("s", null, false, 10);
            assertThat(letters).singleElement().satisfies(d -> {
                assertThat(d.messageId()).isEqualTo("bad-1");
                assertThat(d.error()).contains("HTTP 400");
                assertThat(d.statusCode()).isEqualTo(400);
                assertThat(d.event().get("userId").asText()).isEqualTo("u1");
            });

            destination.failEvents(event -> null); // the receiver is fixed
            retries.replay(letters, clock.instant());
            assertThat(deadLetters.list("s", null, false, 10)).isEmpty();
            assertThat(deadLetters.list("s", null, true, 10))
                    .singleElement()
                    .satisfies(d -> assertThat(d.replayedAt()).isNotNull());
            assertThat(worker.retryDue()).isEqualTo(1);
            assertThat(delivered()).containsExactly("e2", "bad-1");
        }
    }

    @Test
    void retriesStopAfterMaxAttemptsIntoDeadLetters() throws Exception {
        send(new String[] {"u1", "e1"});
        plan(new PlannedBatch("s", 0, 0, 0, 1, 100));
        failing.add("e1");
        try (Worker worker = worker()) {
            worker.runOnce();
            for (int i = 0; i < 3; i++) {
                clock.tick(Duration.ofMinutes(10));
                worker.retryDue();
            }
        }
        assertThat(deadLetters.list("s", null, false, 10)).singleElement().satisfies(d -> {
            assertThat(d.messageId()).isEqualTo("e1");
            assertThat(d.attempts()).isEqualTo(3);
        });
        assertThat(delivered()).isEmpty();
    }

    @Test
    void aBatchTheDestinationRefusedAltogetherWaitsAsOneRowWithoutUsingAnAttempt() throws Exception {
        send(new String[] {"u1", "e1"}, new String[] {"u2", "e2"});
        plan(new PlannedBatch("s", 0, 0, 1, 2, 200));
        send(new String[] {"u1", "e3"});
        plan(new PlannedBatch("s", 0, 2, 2, 1, 100));
        destination.failEvents(event -> DeliveryException.of(FailureClass.BACKPRESSURE, "HTTP 429", null));
        try (Worker worker = worker()) {
            for (int round = 0; round < 5; round++) { // more rounds than retry.maxAttempts (3)
                worker.runOnce();
                clock.tick(Duration.ofSeconds(2));
            }
            assertThat(delivered()).isEmpty();
            worker.maintain();
            assertThat(retryGauge("sluice.retry.queue.depth"))
                    .as("no retry row per event: the batch row waits")
                    .isZero();
            assertThat(batchStates())
                    .as("backpressure uses no attempt; the second batch waits behind the first")
                    .containsExactly("pending/0", "pending/0");

            destination.failEvents(event -> null); // the destination takes events again
            worker.runOnce(); // the first batch, then (not started: no hand-on) the second
            worker.runOnce();
            assertThat(delivered()).containsExactly("e1", "e2", "e3");
            assertThat(batchStates()).containsExactly("done/1", "done/1");
            assertThat(deadLetters.list("s", null, false, 10)).isEmpty();
        }
    }

    @Test
    void aRefusedBatchThatWouldBeExhaustedLeavesItsEventsToTheRetryQueue() throws Exception {
        send(new String[] {"u1", "e1"}, new String[] {"u2", "e2"});
        plan(new PlannedBatch("s", 0, 0, 1, 2, 200));
        destination.failEvents(event -> DeliveryException.of(FailureClass.UNREACHABLE, "connection refused", null));
        try (Worker worker = worker()) {
            for (int round = 0; round < 3; round++) {
                worker.runOnce();
                clock.tick(Duration.ofMinutes(2));
            }
            assertThat(batchStates())
                    .as("two attempts as a row, the third (the last of maxAttempts) per event")
                    .containsExactly("done/3");
            worker.maintain();
            assertThat(retryGauge("sluice.retry.queue.depth")).isEqualTo(2);
        }
    }

    /** Each batch as status/attempts, in offset order, as the queue database holds it. */
    private List<String> batchStates() throws Exception {
        List<String> states = new java.util.ArrayList<>();
        try (var c = database.dataSource().getConnection();
                var rs = c.createStatement()
                        .executeQuery("SELECT status, attempts FROM batches ORDER BY first_offset")) {
            while (rs.next()) states.add(rs.getString(1) + "/" + rs.getInt(2));
        }
        return states;
    }

    private void send(String[]... userAndId) {
        TestEvents.send(
                topic,
                0,
                Arrays.stream(userAndId)
                        .map(u -> new String[] {"web", u[0], TestEvents.event("web", "track", u[0], "E", u[1])})
                        .toList());
    }

    private void plan(PlannedBatch batch) throws Exception {
        store.recordPlan(List.of(batch), List.of(), clock.instant());
    }

    private List<String> delivered() {
        return destination.events().stream()
                .map(e -> e.get("messageId").asText())
                .toList();
    }

    private Worker worker() {
        SluiceConfig config = new ConfigLoader(Map.of()).loadYaml("""
                sources: [{id: web, writeKey: k1}]
                destinations: [{id: rec, type: webhook, url: "http://127.0.0.1:1/unused", retry: {base: 1s, cap: 1m, maxAttempts: 3}}]
                syncs: [{id: s, source: web, destination: rec}]
                """);
        return new Worker(
                config,
                new WorkerStores(store, retries, deadLetters),
                Map.of("rec", destination),
                null,
                new BatchReader(TestKafka.bootstrapServers(), config.worker().concurrency()),
                clock,
                registry,
                "test-worker");
    }
}
