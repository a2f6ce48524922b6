package io.sluice.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.db.QueueDatabase;
import io.sluice.failover.WriteGate;
import io.sluice.support.TestPostgres;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The virtual queue's SQL on a real PostgreSQL: claims, ordering, fencing, retries, dead letters, planning fences. */
class QueueStoreTest {
    static final Duration LEASE = Duration.ofSeconds(30);
    Instant now = Instant.parse("2026-05-01T10:00:00Z");
    QueueDatabase database;
    QueueStore store;

    @BeforeEach
    void setUp() {
        database = new QueueDatabase(TestPostgres.createDatabase("queue"), TestPostgres.USER, "", 4);
        database.start();
        store = new QueueStore(database.dataSource(), "events", new SimpleMeterRegistry());
    }

    @AfterEach
    void tearDown() {
        database.close();
    }

    @Test
    void claimTakesOwnershipWithANewEpochAndCompletionIsFenced() throws Exception {
        plan(new PlannedBatch("s1", 0, 0, 9, 10, 1000));
        ClaimedBatch first = single(store.claim("worker-a", 10, LEASE, now));
        assertThat(first.epoch()).isEqualTo(1);
        assertThat(first.attempts()).isEqualTo(1);
        assertThat(store.claim("worker-b", 10, LEASE, now))
                .as("held, not yet expired")
                .isEmpty();

        now = now.plus(LEASE).plusSeconds(1); // worker-a stalls past its lease
        ClaimedBatch retaken = single(store.claim("worker-b", 10, LEASE, now));
        assertThat(retaken.id()).isEqualTo(first.id());
        assertThat(retaken.epoch()).isEqualTo(2);

        assertThatThrownBy(() -> store.complete(first, now)).isInstanceOf(FencedException.class);
        assertThat(store.heartbeat("worker-a", List.of(first), LEASE, now)).isEmpty();
        assertThat(store.heartbeat("worker-b", List.of(retaken), LEASE, now)).containsExactly(retaken.id());
        store.complete(retaken, now);
        assertThat(store.claim("worker-c", 10, LEASE, now.plus(Duration.ofDays(1))))
                .isEmpty();
    }

    @Test
    void aBatchWaitsForEarlierBatchesOfItsSyncAndPartitionOnly() throws Exception {
        plan(
                new PlannedBatch("s1", 0, 0, 9, 10, 100),
                new PlannedBatch("s1", 0, 10, 19, 10, 100),
                new PlannedBatch("s1", 1, 0, 4, 5, 50),
                new PlannedBatch("s2", 0, 0, 19, 3, 30));
        List<ClaimedBatch> claimed = store.claim("w", 10, LEASE, now);
        assertThat(claimed)
                .extracting(b -> b.syncId() + "/" + b.partition() + "@" + b.firstOffset())
                .containsExactlyInAnyOrder("s1/0@0", "s1/1@0", "s2/0@0");
        ClaimedBatch head = claimed.stream()
                .filter(b -> b.syncId().equals("s1") && b.partition() == 0)
                .findFirst()
                .orElseThrow();
        store.complete(head, now);
        assertThat(single(store.claim("w", 10, LEASE, now)).firstOffset()).isEqualTo(10);
    }

    @Test
    void retriesWaitForTheirTimeAndDeadLettersDoNotBlockTheirPartition() throws Exception {
        plan(new PlannedBatch("s1", 0, 0, 9, 10, 100), new PlannedBatch("s1", 0, 10, 19, 10, 100));
        ClaimedBatch first = single(store.claim("w", 10, LEASE, now));
        store.retryLater(first, now.plusSeconds(60), "HTTP 503", now);
        assertThat(store.claim("w", 10, LEASE, now.plusSeconds(59)))
                .as("not due, and it blocks its successor")
                .isEmpty();
        now = now.plusSeconds(60);
        ClaimedBatch again = single(store.claim("w", 10, LEASE, now));
        assertThat(again.attempts()).isEqualTo(2);
        store.deadLetter(again, "permanent: bad value", now);
        assertThat(single(store.claim("w", 10, LEASE, now)).firstOffset()).isEqualTo(10);
    }

    @Test
    void planningIsFencedByTheExpectedPosition() throws Exception {
        store.recordPlan(
                List.of(new PlannedBatch("s1", 0, 0, 9, 10, 100)), List.of(new ProgressUpdate("s1", 0, null, 10)), now);
        assertThat(store.positions(0).get("s1")).isEqualTo(new QueueStore.Position(10L, 10));
        // A stale planner that still believes the position is 0 can neither move it nor add its batch.
        assertThatThrownBy(() -> store.recordPlan(
                        List.of(new PlannedBatch("s1", 0, 0, 14, 15, 150)),
                        List.of(new ProgressUpdate("s1", 0, 0L, 15)),
                        now))
                .isInstanceOf(FencedException.class);
        assertThatThrownBy(() -> store.recordPlan(
                        List.of(new PlannedBatch("s1", 0, 0, 14, 15, 150)),
                        List.of(new ProgressUpdate("s1", 0, null, 15)),
                        now))
                .isInstanceOf(FencedException.class);
        assertThat(store.positions(0).get("s1").next()).isEqualTo(10);
        assertThat(store.claim("w", 10, LEASE, now))
                .singleElement()
                .satisfies(b -> assertThat(b.lastOffset()).isEqualTo(9));
    }

    @Test
    void positionsResumeAfterTheNewestBatchWhenItsPositionWriteWasLost() throws Exception {
        store.recordPlan(List.of(new PlannedBatch("s1", 3, 100, 199, 100, 1000)), List.of(), now);
        assertThat(store.positions(3).get("s1")).isEqualTo(new QueueStore.Position(null, 200));
    }

    @Test
    void releasedBatchesAreTakenAtOnceAndDoneRowsArePruned() throws Exception {
        plan(new PlannedBatch("s1", 0, 0, 9, 10, 100));
        ClaimedBatch batch = single(store.claim("w1", 10, LEASE, now));
        store.release(batch, now);
        ClaimedBatch taken = single(store.claim("w2", 10, LEASE, now));
        assertThat(taken.attempts()).as("a release is not an attempt").isEqualTo(1);
        store.complete(taken, now);
        assertThat(store.pruneDone(now.minusSeconds(1), 100)).isZero();
        assertThat(store.pruneDone(now.plusSeconds(1), 100)).isEqualTo(1);
        assertThat(store.statementCount()).isGreaterThan(0);
    }

    @Test
    void completingHandsOnTheSuccessorInTheSameTransactionOnlyOfTheSameSync() throws Exception {
        plan(
                new PlannedBatch("s1", 0, 0, 9, 10, 100),
                new PlannedBatch("s1", 0, 10, 19, 10, 100),
                new PlannedBatch("s2", 0, 0, 9, 10, 100));
        List<ClaimedBatch> heads = store.claim("w", 10, LEASE, now);
        ClaimedBatch s1 =
                heads.stream().filter(b -> b.syncId().equals("s1")).findFirst().orElseThrow();
        ClaimedBatch s2 =
                heads.stream().filter(b -> b.syncId().equals("s2")).findFirst().orElseThrow();
        ClaimedBatch next = store.completeAndClaimNext(s1, now, List.of(), List.of(), LEASE, 4)
                .orElseThrow();
        assertThat(next.syncId()).isEqualTo("s1");
        assertThat(next.firstOffset())
                .as("the successor the completion unblocked")
                .isEqualTo(10);
        assertThat(next.owner()).isEqualTo("w");
        assertThat(store.claim("other", 10, LEASE, now)).as("already held").isEmpty();
        assertThat(store.completeAndClaimNext(s2, now, List.of(), List.of(), LEASE, 4))
                .as("s2 has nothing more")
                .isEmpty();
        assertThatThrownBy(() -> store.completeAndClaimNext(s1, now, List.of(), List.of(), LEASE, 4))
                .as("a completion is fenced: done already")
                .isInstanceOf(FencedException.class);
        store.complete(next, now);
    }

    @Test
    void aBacklogIsHandedOnAsARunThatChangesAllOrNothing() throws Exception {
        plan(
                new PlannedBatch("s1", 0, 0, 9, 10, 100),
                new PlannedBatch("s1", 0, 10, 19, 10, 100),
                new PlannedBatch("s1", 0, 20, 29, 10, 100),
                new PlannedBatch("s1", 0, 30, 39, 10, 100));
        ClaimedBatch head = single(store.claim("w", 10, LEASE, now));
        ClaimedBatch run = store.completeAndClaimNext(head, now, List.of(), List.of(), LEASE, 2)
                .orElseThrow();
        assertThat(run.members()).hasSize(2);
        assertThat(run.firstOffset()).isEqualTo(10);
        assertThat(run.lastOffset()).isEqualTo(29);
        assertThat(run.eventCount()).isEqualTo(20);
        assertThat(store.heartbeat("w", List.of(run), LEASE, now))
                .containsExactlyInAnyOrder(
                        run.members().stream().map(ClaimedBatch.Member::id).toArray(Long[]::new));

        now = now.plus(LEASE).plusSeconds(1); // the worker stalls; someone takes the run's first batch
        ClaimedBatch stolen = single(store.claim("thief", 10, LEASE, now));
        assertThat(stolen.firstOffset()).isEqualTo(10);
        assertThatThrownBy(() -> store.complete(run, now)).isInstanceOf(FencedException.class);
        store.complete(stolen, now);
        assertThat(store.claim("other", 10, LEASE, now.plus(LEASE).plusSeconds(1)))
                .as("20-29 was not completed by the fenced run: it is retaken")
                .extracting(ClaimedBatch::firstOffset)
                .containsExactly(20L);
    }

    @Test
    void aFailedRunIsRetriedBatchByBatchThenRunsResume() throws Exception {
        plan(
                new PlannedBatch("s1", 0, 0, 9, 10, 100),
                new PlannedBatch("s1", 0, 10, 19, 10, 100),
                new PlannedBatch("s1", 0, 20, 29, 10, 100),
                new PlannedBatch("s1", 0, 30, 39, 10, 100),
                new PlannedBatch("s1", 0, 40, 49, 10, 100));
        ClaimedBatch head = single(store.claim("w", 10, LEASE, now));
        ClaimedBatch run = store.completeAndClaimNext(head, now, List.of(), List.of(), LEASE, 2)
                .orElseThrow();
        store.retryLater(run, now, "boom", now);
        ClaimedBatch first = single(store.claim("w", 10, LEASE, now));
        assertThat(first.firstOffset()).isEqualTo(10);
        assertThat(store.completeAndClaimNext(first, now, List.of(), List.of(), LEASE, 4))
                .as("20-29 failed in the run: it goes alone")
                .isEmpty();
        ClaimedBatch second = single(store.claim("w", 10, LEASE, now));
        assertThat(second.firstOffset()).isEqualTo(20);
        ClaimedBatch fresh = store.completeAndClaimNext(second, now, List.of(), List.of(), LEASE, 4)
                .orElseThrow();
        assertThat(fresh.members()).as("30-39 and 40-49 were never attempted").hasSize(2);
        store.complete(fresh, now);
    }

    @Test
    void aRunStopsAtTheFirstBatchThatIsNotDue() throws Exception {
        plan(new PlannedBatch("s1", 0, 0, 9, 10, 100), new PlannedBatch("s1", 0, 10, 19, 10, 100));
        ClaimedBatch head = single(store.claim("w", 10, LEASE, now));
        ClaimedBatch second = store.completeAndClaimNext(head, now, List.of(), List.of(), LEASE, 4)
                .orElseThrow();
        store.retryLater(second, now.plusSeconds(60), "later", now);
        plan(new PlannedBatch("s1", 0, 20, 29, 10, 100));
        assertThat(store.claim("w", 10, LEASE, now))
                .as("10-19 backs off, 20-29 waits")
                .isEmpty();
    }

    @Test
    void aPausedGateLetsTheCompletionThroughButClaimsNothing() throws Exception {
        WriteGate gate = new WriteGate(Clock.systemUTC(), Duration.ZERO);
        QueueStore gated = new QueueStore(database.dataSource(), "events", new SimpleMeterRegistry(), gate);
        plan(new PlannedBatch("s1", 0, 0, 9, 10, 100), new PlannedBatch("s1", 0, 10, 19, 10, 100));
        ClaimedBatch head = single(gated.claim("w", 10, LEASE, now));
        gate.pause(true);
        assertThat(gated.completeAndClaimNext(head, now, List.of(), List.of(), LEASE, 4))
                .as("paused: draining only")
                .isEmpty();
        gate.pause(false);
        assertThat(single(gated.claim("w", 10, LEASE, now)).firstOffset()).isEqualTo(10);
    }

    @Test
    void plannedBatchesWakeListeners() throws Exception {
        Semaphore woken = new Semaphore(0);
        try (BatchNotifications notifications = store.notifications(woken::release)) {
            notifications.start();
            assertThat(woken.tryAcquire(10, TimeUnit.SECONDS))
                    .as("a first wake-up once listening")
                    .isTrue();
            woken.drainPermits();
            plan(new PlannedBatch("s1", 0, 0, 9, 10, 100));
            assertThat(woken.tryAcquire(10, TimeUnit.SECONDS))
                    .as("woken by the planner's commit")
                    .isTrue();
        }
    }

    private void plan(PlannedBatch... batches) throws Exception {
        store.recordPlan(List.of(batches), List.of(), now);
    }

    private static ClaimedBatch single(List<ClaimedBatch> claimed) {
        assertThat(claimed).hasSize(1);
        return claimed.get(0);
    }
}
