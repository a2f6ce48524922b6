package io.sluice.queue;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.db.QueueDatabase;
import io.sluice.failover.WriteGate;
import io.sluice.support.TestPostgres;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A backfill's lane in the claim statements on a real PostgreSQL: live batches are claimed first, the lanes never wait
 * for each other's unfinished batches of the same partition, a run stays within its lane, and a backfill's batches
 * never move the live planning positions.
 */
class BackfillLaneClaimTest {
    static final Duration LEASE = Duration.ofSeconds(30);
    Instant now = Instant.parse("2026-05-01T10:00:00Z");
    QueueDatabase database;
    QueueStore store;
    BackfillStore backfills;
    long lane;

    @BeforeEach
    void setUp() throws Exception {
        database = new QueueDatabase(TestPostgres.createDatabase("lanes"), TestPostgres.USER, "", 4);
        database.start();
        store = new QueueStore(database.dataSource(), "events", new SimpleMeterRegistry());
        backfills = new BackfillStore(database.dataSource(), "events", new WriteGate(Clock.systemUTC(), Duration.ZERO));
        lane = backfills.create(
                new BackfillStore.Request(
                        "s", now.minusSeconds(3600), now, 1000, "test", List.of(new Backfill.Partition(0, 0, 1000))),
                now);
        assertThat(backfills.lease(lane, "planner-a", LEASE, now)).isTrue();
    }

    @AfterEach
    void tearDown() {
        database.close();
    }

    @Test
    void liveBatchesGoFirstAndTheLanesNeverWaitForEachOther() throws Exception {
        // the backfill's batches are older rows at lower offsets than the live one
        backfills.recordPlan(
                lane,
                "planner-a",
                List.of(new PlannedBatch("s", 0, 0, 9, 10, 100), new PlannedBatch("s", 0, 10, 19, 10, 100)),
                List.of(new BackfillStore.Advance(0, 0, 20)),
                now);
        store.recordPlan(List.of(new PlannedBatch("s", 0, 500, 509, 10, 100)), List.of(), now.plusSeconds(1));
        ClaimedBatch live = store.claim("w", 1, LEASE, now.plusSeconds(2)).getFirst();
        assertThat(live.backfill()).isFalse();
        assertThat(live.firstOffset()).isEqualTo(500);
        ClaimedBatch first = store.claim("w", 5, LEASE, now.plusSeconds(2)).getFirst();
        assertThat(first.lane())
                .as("not held back by the live lane's running batch of the partition")
                .isEqualTo(lane);
        assertThat(first.firstOffset()).isZero();
        assertThat(store.claim("w", 5, LEASE, now.plusSeconds(2)))
                .as("per-user order within the lane: its next batch waits for the first")
                .isEmpty();
        store.recordPlan(List.of(new PlannedBatch("s", 0, 510, 519, 10, 100)), List.of(), now.plusSeconds(3));
        ClaimedBatch run = store.completeAndClaimNext(first, now.plusSeconds(4), List.of(), List.of(), LEASE, 4)
                .orElseThrow();
        assertThat(run.lane()).as("a run stays within its lane").isEqualTo(lane);
        assertThat(run.firstOffset()).isEqualTo(10);
        assertThat(run.members()).hasSize(1);
        backfills.recordPlan(
                lane,
                "planner-a",
                List.of(new PlannedBatch("s", 0, 20, 609, 10, 100)),
                List.of(new BackfillStore.Advance(0, 20, 610)),
                now.plusSeconds(5));
        assertThat(store.positions(0)).containsOnlyKeys("s");
        assertThat(store.positions(0).get("s").next())
                .as("live planning resumes past its own newest batch, not the backfill's further one")
                .isEqualTo(520);
    }

    @Test
    void cancellingDropsTheWaitingBatchesAndLeavesTheHeldOnesToFinish() throws Exception {
        backfills.recordPlan(
                lane,
                "planner-a",
                List.of(new PlannedBatch("s", 0, 0, 9, 10, 100), new PlannedBatch("s", 0, 10, 19, 10, 100)),
                List.of(new BackfillStore.Advance(0, 0, 20)),
                now);
        ClaimedBatch held = store.claim("w", 5, LEASE, now).getFirst();
        assertThat(backfills.cancel(lane, now)).isTrue();
        Backfill cancelled = backfills.get(lane).orElseThrow();
        assertThat(cancelled.status()).isEqualTo(Backfill.Status.CANCELLED);
        assertThat(cancelled.unfinishedBatches())
                .as("only the held batch is left")
                .isEqualTo(1);
        store.complete(held, now);
        assertThat(backfills.get(lane).orElseThrow().unfinishedBatches()).isZero();
        assertThat(backfills.lease(lane, "planner-a", LEASE, now))
                .as("nothing to plan")
                .isFalse();
    }

    @Test
    void aPlannerWhoseLeaseWasTakenOverRecordsNothing() throws Exception {
        assertThat(backfills.lease(lane, "planner-b", LEASE, now.plusSeconds(1)))
                .isFalse();
        assertThat(backfills.lease(lane, "planner-b", LEASE, now.plus(LEASE))).isTrue();
        try {
            backfills.recordPlan(
                    lane,
                    "planner-a",
                    List.of(new PlannedBatch("s", 0, 0, 9, 10, 100)),
                    List.of(new BackfillStore.Advance(0, 0, 10)),
                    now.plus(LEASE));
            throw new AssertionError("recorded without the lease");
        } catch (FencedException expected) {
            assertThat(backfills.get(lane).orElseThrow().plannedBatches()).isZero();
            assertThat(backfills.get(lane).orElseThrow().partitions().getFirst().next())
                    .isZero();
        }
    }
}
