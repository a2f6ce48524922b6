package io.sluice.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.config.ConfigLoader;
import io.sluice.config.SluiceConfig;
import io.sluice.db.QueueDatabase;
import io.sluice.delivery.DeliveryException;
import io.sluice.delivery.FailureClass;
import io.sluice.destination.DeliveryBatch;
import io.sluice.failover.WriteGate;
import io.sluice.function.Functions;
import io.sluice.queue.ClaimedBatch;
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
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Partial failures of an event-by-event destination: delivered events are never sent again; a batch with events that
 * failed retriably waits as its row with the rest (its successors behind it), until attempts without progress hand
 * the rest to the per-sync retry queue, where a user's later events queue behind them and other users flow; permanent
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
            if (id.startsWith("bad"))
                return DeliveryException.of(FailureClass.PERMANENT, "HTTP 400: rejected " + id, null);
            return failing.contains(id) ? DeliveryException.of(FailureClass.RESPONSIVE_ERROR, "HTTP 503", null) : null;
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
    void aPartlyDeliveredBatchWaitsAsItsRowAndSendsOnlyTheRestInOrder() throws Exception {
        send(new String[] {"u1", "e1"}, new String[] {"u1", "e2"}, new String[] {"u2", "e3"});
        plan(new PlannedBatch("s", 0, 0, 2, 3, 300));
        failing.add("e1");
        try (Worker worker = worker(3)) {
            assertThat(worker.runOnce()).isEqualTo(1);
            assertThat(delivered()).containsExactly("e3");

            send(new String[] {"u1", "e4"}, new String[] {"u2", "e5"});
            plan(new PlannedBatch("s", 0, 3, 4, 2, 200));
            assertThat(worker.runOnce())
                    .as("the next batch waits behind the first")
                    .isZero();
            worker.maintain();
            assertThat(retryGauge("sluice.retry.queue.depth"))
                    .as("no retry row per event: the batch row keeps e1 and e2")
                    .isZero();
            assertThat(batchStates()).containsExactly("pending/1", "pending/0");

            failing.clear();
            clock.tick(Duration.ofSeconds(2));
            assertThat(worker.runOnce()).isEqualTo(1);
            assertThat(delivered()).as("e3 is not sent again").containsExactly("e3", "e1", "e2");
            assertThat(worker.runOnce()).isEqualTo(1);
            assertThat(delivered()).containsExactly("e3", "e1", "e2", "e4", "e5");
            assertThat(batchStates()).containsExactly("done/2", "done/1");

            List<String> keys = destination.batches().stream()
                    .map(DeliveryBatch::idempotencyKey)
                    .toList();
            assertThat(keys.get(1))
                    .as("the rest of a batch has an idempotency key of its own")
                    .startsWith(keys.get(0) + "~")
                    .isNotEqualTo(keys.get(0));
        }
    }

    /**
     * A heartbeat whose statement returns only after the attempt it saw was recorded and the batch claimed again (a
     * heartbeat waiting for a connection, seen in CI) must not fence the new claim: it did, by batch id, and the
     * new claim's delivery was abandoned, then delivered a second time once its lease expired.
     */
    @Test
    void aHeartbeatThatOutlivesAnAttemptNeverFencesTheNextClaimOfItsBatch() throws Exception {
        send(new String[] {"u1", "e1"}, new String[] {"u1", "e2"}, new String[] {"u2", "e3"});
        plan(new PlannedBatch("s", 0, 0, 2, 3, 300));
        failing.add("e1");
        AtomicReference<Worker> running = new AtomicReference<>();
        AtomicReference<List<ClaimedBatch>> heartbeatStarted = new AtomicReference<>();
        destination.failWith(batch -> {
            try {
                // The first attempt: a heartbeat starts and sees its claim. The second: that heartbeat's statement
                // returns, its claim long recorded and the batch held again under a new epoch.
                if (heartbeatStarted.get() == null)
                    heartbeatStarted.set(running.get().held());
                else running.get().heartbeat(heartbeatStarted.get());
                return null;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        try (Worker worker = worker(3)) {
            running.set(worker);
            assertThat(worker.runOnce()).isEqualTo(1);
            assertThat(heartbeatStarted.get()).hasSize(1);
            failing.clear();
            clock.tick(Duration.ofSeconds(2));
            assertThat(worker.runOnce()).isEqualTo(1);
            assertThat(batchStates())
                    .as("the second claim's completion is recorded")
                    .containsExactly("done/2");
            clock.tick(Duration.ofSeconds(31)); // past the lease an abandoned claim would have kept
            assertThat(worker.runOnce()).isZero();
            assertThat(delivered()).as("each event once").containsExactly("e3", "e1", "e2");
        }
    }

    @Test
    void anEventTheDestinationKeepsFailingStopsHoldingUpOtherUsersAfterThreeFailuresInARow() throws Exception {
        send(new String[] {"u1", "e1"}, new String[] {"u1", "e2"}, new String[] {"u2", "e3"});
        plan(new PlannedBatch("s", 0, 0, 2, 3, 300));
        send(new String[] {"u2", "e4"});
        plan(new PlannedBatch("s", 0, 3, 3, 1, 100));
        failing.add("e1");
        try (Worker worker = worker(10)) {
            otherSyncTakes("x1");
            worker.runOnce(); // e3 delivered: progress, attempts start again at 1
            for (int round = 1; round < DeliveryDecision.ROUNDS_WITHOUT_PROGRESS - 1; round++) {
                clock.tick(Duration.ofSeconds(10));
                otherSyncTakes("x" + (round + 1));
                worker.runOnce();
                assertThat(batchStates()).as("still waiting as a row").startsWith("pending/" + (round + 1));
            }
            clock.tick(Duration.ofSeconds(10));
            worker.runOnce(); // e1 fails a third time in a row: it goes to the retry queue, e2 stays held
            worker.maintain();
            assertThat(retryGauge("sluice.retry.queue.depth")).isEqualTo(1);
            clock.tick(Duration.ofSeconds(10));
            worker.runOnce(); // e2 queues behind e1 (its user waits); nothing else is left: the batch is done
            worker.runOnce();
            assertThat(delivered().stream().filter(id -> id.startsWith("e")))
                    .as("u2's next event flows while u1's wait in the retry queue")
                    .containsExactly("e3", "e4");
            worker.maintain();
            assertThat(retryGauge("sluice.retry.queue.depth"))
                    .as("e1 and e2 behind it")
                    .isEqualTo(2);
            assertThat(batchStates()).containsExactly("done/1", "done/1");

            failing.clear();
            clock.tick(Duration.ofMinutes(10));
            assertThat(worker.retryDue()).isEqualTo(1);
            assertThat(delivered().stream().filter(id -> id.startsWith("e"))).containsExactly("e3", "e4", "e1", "e2");
            assertThat(deadLetters.list("s", null, false, 10)).isEmpty();
        }
    }

    @Test
    void aDestinationThatAnswersEveryEventWithAnErrorKeepsItsBatchesAsRows() throws Exception {
        send(new String[] {"u1", "e1"}, new String[] {"u2", "e2"});
        plan(new PlannedBatch("s", 0, 0, 1, 2, 200));
        failing.addAll(List.of("e1", "e2"));
        try (Worker worker = worker(10)) {
            for (int round = 0; round < DeliveryDecision.ROUNDS_WITHOUT_PROGRESS + 2; round++) {
                worker.runOnce();
                clock.tick(Duration.ofSeconds(20));
            }
            worker.maintain();
            assertThat(retryGauge("sluice.retry.queue.depth"))
                    .as("it took nothing: not one retry row per event")
                    .isZero();
            assertThat(batchStates()).containsExactly("pending/5");

            failing.clear();
            worker.runOnce();
            assertThat(delivered()).containsExactly("e1", "e2");
        }
    }

    @Test
    void aFunctionsDeadLettersAreWrittenOnceAcrossTheAttemptsOfItsBatch(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("fn.js"), """
                function transform(event) {
                  if (event.messageId === 'boom') throw new Error('no boom');
                  return event;
                }
                """);
        Files.writeString(dir.resolve("sluice.yaml"), """
                sources: [{id: web, writeKey: k1}]
                destinations: [{id: rec, type: webhook, url: "http://127.0.0.1:1/unused", retry: {base: 1s, cap: 1m}}]
                syncs: [{id: s, source: web, destination: rec, function: fn.js}]
                """);
        SluiceConfig config = new ConfigLoader(Map.of()).load(dir.resolve("sluice.yaml"));
        send(new String[] {"u1", "boom"}, new String[] {"u1", "e1"}, new String[] {"u2", "e2"});
        plan(new PlannedBatch("s", 0, 0, 2, 3, 300));
        failing.add("e1");
        try (Functions functions = new Functions(config, registry, Clock.systemUTC());
                Worker worker = worker(config, functions)) {
            functions.start();
            worker.runOnce();
            clock.tick(Duration.ofSeconds(10));
            worker.runOnce(); // e1 still fails: the row is attempted again, its function with it
            failing.clear();
            clock.tick(Duration.ofSeconds(10));
            worker.runOnce();
            assertThat(delivered()).containsExactly("e2", "e1");
            assertThat(batchStates()).containsExactly("done/3");
            assertThat(deadLetters.list("s", null, false, 10))
                    .singleElement()
                    .satisfies(d -> assertThat(d.messageId()).isEqualTo("boom"));
        }
    }

    /**
     * A retry chain whose delivery outlasts the lease (many events to a slow destination) keeps its lease through the
     * heartbeats of the worker delivering it: another worker never leases it again and delivers it a second time.
     */
    @Test
    void aRetryChainSlowerThanItsLeaseIsNeverLeasedAgainMeanwhile() throws Exception {
        send(new String[] {"u1", "bad-1"});
        plan(new PlannedBatch("s", 0, 0, 0, 1, 100));
        CountDownLatch delivering = new CountDownLatch(1);
        CountDownLatch answer = new CountDownLatch(1);
        try (Worker first = worker(3);
                Worker second = worker(config(3), null, "second-worker")) {
            first.runOnce();
            List<DeadLetter> letters = deadLetters.list("s", null, false, 10);
            destination.failEvents(event -> {
                delivering.countDown();
                try {
                    answer.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return null;
            });
            retries.replay(letters, clock.instant());
            assertThat(first.dispatchRetries()).isEqualTo(1);
            assertThat(delivering.await(10, TimeUnit.SECONDS)).isTrue();
            for (int i = 0; i < 4; i++) {
                clock.tick(Duration.ofSeconds(10));
                first.heartbeat();
            }
            assertThat(second.dispatchRetries())
                    .as("40 s into a 30 s lease, the chain is still held")
                    .isZero();
            answer.countDown();
            await().atMost(Duration.ofSeconds(10)).until(() -> retryRows() == 0);
            assertThat(delivered()).as("delivered once").containsExactly("bad-1");
        }
    }

    @Test
    void permanentFailuresAreDeadLetteredAndReplayDeliversThem() throws Exception {
        send(new String[] {"u1", "bad-1"}, new String[] {"u1", "e2"});
        plan(new PlannedBatch("s", 0, 0, 1, 2, 200));
        try (Worker worker = worker(3)) {
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
        try (Worker worker = worker(3)) {
            for (int i = 0; i < 3; i++) {
                worker.runOnce();
                clock.tick(Duration.ofMinutes(10));
            }
            assertThat(worker.retryDue()).as("nothing left for the retry queue").isZero();
        }
        assertThat(deadLetters.list("s", null, false, 10)).singleElement().satisfies(d -> {
            assertThat(d.messageId()).isEqualTo("e1");
            assertThat(d.attempts()).isEqualTo(3);
        });
        assertThat(batchStates()).containsExactly("done/3");
        assertThat(delivered()).isEmpty();
    }

    @Test
    void aBatchTheDestinationRefusedAltogetherWaitsAsOneRowWithoutUsingAnAttempt() throws Exception {
        send(new String[] {"u1", "e1"}, new String[] {"u2", "e2"});
        plan(new PlannedBatch("s", 0, 0, 1, 2, 200));
        send(new String[] {"u1", "e3"});
        plan(new PlannedBatch("s", 0, 2, 2, 1, 100));
        destination.failEvents(event -> DeliveryException.of(FailureClass.BACKPRESSURE, "HTTP 429", null));
        try (Worker worker = worker(3)) {
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
    void aRefusedBatchThatUsesUpItsAttemptsEndsAsReplayableDeadLettersPerEvent() throws Exception {
        send(new String[] {"u1", "e1"}, new String[] {"u2", "e2"});
        plan(new PlannedBatch("s", 0, 0, 1, 2, 200));
        destination.failEvents(event -> DeliveryException.of(FailureClass.UNREACHABLE, "connection refused", null));
        try (Worker worker = worker(3)) {
            for (int round = 0; round < 3; round++) {
                worker.runOnce();
                clock.tick(Duration.ofMinutes(2));
            }
            assertThat(batchStates())
                    .as("two attempts as a row, the third (the last of maxAttempts) completes it per event")
                    .containsExactly("done/3");
            worker.maintain();
            assertThat(retryGauge("sluice.retry.queue.depth")).isZero();
            assertThat(deadLetters.list("s", null, false, 10))
                    .extracting(DeadLetter::messageId, DeadLetter::attempts)
                    .containsExactlyInAnyOrder(tuple("e1", 3), tuple("e2", 3));
        }
    }

    /**
     * The destination takes events of another sync meanwhile (sync s2, user u3, one event planned after the last),
     * so it takes most of what it is sent: a row that keeps failing holds events it refuses.
     */
    private void otherSyncTakes(String id) throws Exception {
        long offset = send(new String[] {"u3", id}).getFirst();
        plan(new PlannedBatch("s2", 0, offset, offset, 1, 100));
    }

    private long retryRows() throws Exception {
        try (var c = database.dataSource().getConnection();
                var rs = c.createStatement().executeQuery("SELECT count(*) FROM retry_events")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Each batch of sync s as status/attempts, in offset order, as the queue database holds it. */
    private List<String> batchStates() throws Exception {
        List<String> states = new java.util.ArrayList<>();
        try (var c = database.dataSource().getConnection();
                var rs = c.createStatement()
                        .executeQuery(
                                "SELECT status, attempts FROM batches WHERE sync_id = 's' ORDER BY first_offset")) {
            while (rs.next()) states.add(rs.getString(1) + "/" + rs.getInt(2));
        }
        return states;
    }

    private List<Long> send(String[]... userAndId) {
        return TestEvents.send(
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

    private Worker worker(SluiceConfig config, Functions functions) {
        return worker(config, functions, "test-worker");
    }

    private Worker worker(SluiceConfig config, Functions functions, String owner) {
        return new Worker(
                config,
                new WorkerStores(store, retries, deadLetters),
                Map.of("rec", destination),
                functions,
                new BatchReader(TestKafka.clients(), config.worker().concurrency()),
                clock,
                registry,
                owner);
    }

    private Worker worker(int maxAttempts) {
        return worker(config(maxAttempts), null);
    }

    private static SluiceConfig config(int maxAttempts) {
        return new ConfigLoader(Map.of()).loadYaml("""
                sources: [{id: web, writeKey: k1}]
                destinations: [{id: rec, type: webhook, url: "http://127.0.0.1:1/unused", retry: {base: 1s, cap: 1m, maxAttempts: %d}}]
                syncs: [{id: s, source: web, destination: rec}, {id: s2, source: web, destination: rec}]
                """.formatted(maxAttempts));
    }
}
