package io.sluice.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.config.ConfigLoader;
import io.sluice.config.SluiceConfig;
import io.sluice.db.QueueDatabase;
import io.sluice.failover.WriteGate;
import io.sluice.queue.Backfill;
import io.sluice.queue.BackfillStore;
import io.sluice.queue.ClaimedBatch;
import io.sluice.queue.PlannedBatch;
import io.sluice.queue.QueueStore;
import io.sluice.support.MutableClock;
import io.sluice.support.TestPostgres;
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
 * A backfill holds at most {@code worker.backfillShare} of a destination's slots, on a real PostgreSQL: with 4 slots
 * and the default share (0.5), a backfill with far more due batches than slots takes 2, and the other 2 go to live
 * batches as they come, although every backfill batch is older; as long as the backfill holds its 2, a freed live
 * slot goes to the next live batch, never to the backfill.
 */
class BackfillShareTest {
    static final Duration LEASE = Duration.ofSeconds(30);
    final MutableClock clock = new MutableClock(Instant.parse("2026-05-01T10:00:00Z"));
    QueueDatabase database;
    QueueStore store;
    BackfillStore backfills;
    SlotClaims slots;
    final HeldBatches held = new HeldBatches();
    final List<ClaimedBatch> dispatched = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        database = new QueueDatabase(TestPostgres.createDatabase("share"), TestPostgres.USER, "", 4);
        database.start();
        store = new QueueStore(database.dataSource(), "events", new SimpleMeterRegistry());
        backfills = new BackfillStore(database.dataSource(), "events", new WriteGate(Clock.systemUTC(), Duration.ZERO));
        SluiceConfig config = new ConfigLoader(Map.of()).loadYaml("""
                sources: [{id: web, writeKey: wk_1}]
                destinations: [{id: hook, type: webhook, url: "http://127.0.0.1:9/h"}]
                syncs: [{id: s, source: web, destination: hook}]
                worker: {concurrency: 4}
                """);
        assertThat(config.worker().backfillSlots()).isEqualTo(2);
        slots = new SlotClaims(store, config.syncs(), Map.of(), config.worker(), held, clock, "w");
    }

    @AfterEach
    void tearDown() {
        database.close();
    }

    @Test
    void aBackfillNeverTakesTheSlotsLeftToLiveBatches() throws Exception {
        Instant now = clock.instant();
        long lane = backfills.create(
                new BackfillStore.Request("s", now.minusSeconds(3600), now, 1000, "test", partitions(8)), now);
        assertThat(backfills.lease(lane, "planner", LEASE, now)).isTrue();
        List<PlannedBatch> old = new ArrayList<>();
        List<BackfillStore.Advance> advances = new ArrayList<>();
        for (int p = 0; p < 8; p++) { // one batch per partition: none waits for another (order within a partition)
            old.add(new PlannedBatch("s", p, 0, 9, 10, 100));
            advances.add(new BackfillStore.Advance(p, 0, 10));
        }
        backfills.recordPlan(lane, "planner", old, advances, now);

        clock.tick(Duration.ofSeconds(1));
        assertThat(slots.claim(slots.free(), dispatched::add)).isEqualTo(2);
        assertThat(dispatched).allMatch(ClaimedBatch::backfill);
        assertThat(slots.free()).as("two of the four slots stay free").isEqualTo(2);
        assertThat(slots.claim(slots.free(), dispatched::add))
                .as("six backfill batches are due, but the backfill holds its share")
                .isZero();

        live(0, 100, 1);
        live(1, 100, 2);
        live(2, 100, 3);
        assertThat(slots.claim(slots.free(), dispatched::add)).isEqualTo(2);
        assertThat(dispatched.subList(2, 4)).noneMatch(ClaimedBatch::backfill);
        assertThat(slots.free()).isZero();

        ClaimedBatch firstLive = dispatched.get(2);
        store.complete(firstLive, clock.instant());
        held.release(firstLive);
        assertThat(slots.claim(slots.free(), dispatched::add)).isEqualTo(1);
        assertThat(dispatched.getLast().backfill())
                .as("the freed live slot goes to the third live batch, not to one of the older backfill batches")
                .isFalse();

        ClaimedBatch oneBackfill = dispatched.getFirst();
        store.complete(oneBackfill, clock.instant());
        held.release(oneBackfill);
        assertThat(slots.claim(slots.free(), dispatched::add)).isEqualTo(1);
        assertThat(dispatched.getLast().backfill())
                .as("a freed backfill slot with no live batch due goes back to the backfill")
                .isTrue();
        assertThat(held.snapshot().stream().filter(ClaimedBatch::backfill)).hasSize(2);
    }

    @Test
    void theClaimTakesLiveBatchesFirstAndBackfillOnesOnlyUpToTheirLimit() throws Exception {
        Instant now = clock.instant();
        long lane = backfills.create(
                new BackfillStore.Request("s", now.minusSeconds(3600), now, 1000, "test", partitions(3)), now);
        assertThat(backfills.lease(lane, "planner", LEASE, now)).isTrue();
        backfills.recordPlan(
                lane,
                "planner",
                List.of(
                        new PlannedBatch("s", 0, 0, 9, 10, 100),
                        new PlannedBatch("s", 1, 0, 9, 10, 100),
                        new PlannedBatch("s", 2, 0, 9, 10, 100)),
                List.of(
                        new BackfillStore.Advance(0, 0, 10),
                        new BackfillStore.Advance(1, 0, 10),
                        new BackfillStore.Advance(2, 0, 10)),
                now);
        live(0, 100, 1);
        live(1, 100, 2);
        List<ClaimedBatch> claimed = store.claim("w", 5, 1, LEASE, clock.instant(), List.of());
        assertThat(claimed).hasSize(3);
        assertThat(claimed.stream().filter(b -> !b.backfill())).hasSize(2);
        assertThat(claimed.stream().filter(ClaimedBatch::backfill)).hasSize(1);
        live(2, 100, 3);
        assertThat(store.claim("w", 1, 1, LEASE, clock.instant(), List.of()))
                .as("a limit filled by live batches leaves the older backfill batches waiting")
                .singleElement()
                .matches(b -> !b.backfill());
    }

    private void live(int partition, long first, int seconds) throws Exception {
        clock.tick(Duration.ofSeconds(seconds));
        store.recordPlan(
                List.of(new PlannedBatch("s", partition, first, first + 9, 10, 100)), List.of(), clock.instant());
    }

    private static List<Backfill.Partition> partitions(int count) {
        List<Backfill.Partition> partitions = new ArrayList<>();
        for (int p = 0; p < count; p++) partitions.add(new Backfill.Partition(p, 0, 1000));
        return partitions;
    }
}
