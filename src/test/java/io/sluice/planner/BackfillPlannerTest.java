package io.sluice.planner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.config.ConfigLoader;
import io.sluice.config.SluiceConfig;
import io.sluice.config.SluiceConfig.SyncSettings;
import io.sluice.db.QueueDatabase;
import io.sluice.failover.WriteGate;
import io.sluice.queue.Backfill;
import io.sluice.queue.BackfillStore;
import io.sluice.support.MutableClock;
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
 * The backfill lane's planning on real Kafka and PostgreSQL, driven tick by tick on a hand-moved clock: a dry run
 * counts exactly what a run plans, the batches tile the window and nothing outside it, the rate limit and the
 * in-flight cap hold planning back, pause/resume/cancel take hold, and a second planner takes over an expired lease
 * and continues where the first recorded.
 */
class BackfillPlannerTest {
    static final Instant T0 = Instant.parse("2026-12-01T08:00:00Z");
    static final Instant T1 = Instant.parse("2026-12-01T09:00:00Z");
    static final Instant T2 = Instant.parse("2026-12-01T10:00:00Z");

    QueueDatabase database;
    String topic;
    SluiceConfig config;
    BackfillStore store;
    BackfillWindows windows;
    MutableClock clock = new MutableClock(Instant.parse("2026-12-07T12:00:00Z"));

    @BeforeEach
    void setUp() {
        topic = TestEvents.createTopic("backfill", 2);
        database = new QueueDatabase(TestPostgres.createDatabase("backfill"), TestPostgres.USER, "", 4);
        database.start();
        config = new ConfigLoader(Map.of()).loadYaml("""
                kafka: {eventsTopic: %s}
                sources: [{id: web, writeKey: k1}, {id: app, writeKey: k2}]
                destinations: [{id: d, type: postgres, url: "jdbc:postgresql://127.0.0.1:1/unused"}]
                syncs:
                  - {id: web-all, source: web, destination: d, batch: {maxEvents: 10}}
                  - {id: web-tracks, source: web, destination: d, filter: {types: [track]}, batch: {maxEvents: 10}}
                """.formatted(topic));
        store = new BackfillStore(database.dataSource(), topic, new WriteGate(Clock.systemUTC(), Duration.ZERO));
        windows = new BackfillWindows(TestKafka.clients(), topic);
        // p0: 30 before, 45 web + 5 app in the window, 20 after; p1: 10 before, 17 web in the window
        List<Timed> records = new ArrayList<>();
        add(records, 0, "web", 30, T0.plusSeconds(1));
        add(records, 0, "web", 45, T1.plusSeconds(1));
        add(records, 0, "app", 5, T1.plusSeconds(2));
        add(records, 0, "web", 20, T2.plusSeconds(1));
        add(records, 1, "web", 10, T0.plusSeconds(1));
        add(records, 1, "web", 17, T1.plusSeconds(3));
        TimedEvents.send(TestKafka.bootstrapServers(), topic, records);
    }

    @AfterEach
    void tearDown() {
        database.close();
    }

    @Test
    void aDryRunCountsExactlyWhatTheRunPlansAndTheBatchesTileTheWindow() throws Exception {
        List<Backfill.Partition> window = windows.resolve(T1, T2);
        assertThat(window).containsExactly(new Backfill.Partition(0, 30, 80), new Backfill.Partition(1, 10, 27));
        var all = windows.dryRun(sync("web-all"), window);
        assertThat(all.events()).isEqualTo(62);
        assertThat(all.batches()).isEqualTo(5 + 2); // p0: 45 = 4 x 10 + 5; p1: 17 = 10 + 7
        var tracks = windows.dryRun(sync("web-tracks"), window);
        assertThat(tracks.events()).isEqualTo(23 + 9); // every other web event is a track
        assertThat(tracks.batches()).isEqualTo(3 + 1);
        assertThat(scalar("SELECT count(*) FROM backfills"))
                .as("a dry run records nothing")
                .isZero();

        long id = windows.create(store, sync("web-tracks"), T1, T2, 1_000_000, "test", clock.instant());
        BackfillPlanner planner = planner();
        tickUntil(planner, () -> store.get(id).orElseThrow().offsetsLeft() == 0);
        Backfill planned = store.get(id).orElseThrow();
        assertThat(planned.plannedEvents()).isEqualTo(tracks.events());
        assertThat(planned.plannedBatches()).isEqualTo(tracks.batches());
        assertThat(ranges(id, 0)).isEqualTo(List.of(List.of(30L, 48L), List.of(49L, 68L), List.of(69L, 79L)));
        assertThat(ranges(id, 1)).isEqualTo(List.of(List.of(10L, 26L)));
        assertThat(scalar("SELECT count(*) FROM planner_progress"))
                .as("the live lane's positions")
                .isZero();
        assertThat(planned.status()).isEqualTo(Backfill.Status.PLANNING);
        deliverAll(id);
        planner.tick();
        assertThat(store.get(id).orElseThrow().status()).isEqualTo(Backfill.Status.DONE);
    }

    @Test
    void theRateLimitAndTheInFlightCapHoldPlanningBack() throws Exception {
        long id = windows.create(store, sync("web-all"), T1, T2, 10, "test", clock.instant());
        BackfillPlanner planner = planner();
        tickUntil(planner, () -> store.get(id).orElseThrow().plannedBatches() >= 1);
        long planned = store.get(id).orElseThrow().plannedBatches();
        for (int i = 0; i < 30; i++) planner.tick(); // the clock stands still: the allowance is spent
        assertThat(store.get(id).orElseThrow().plannedBatches()).isEqualTo(planned);
        clock.tick(Duration.ofSeconds(2));
        tickUntil(planner, () -> store.get(id).orElseThrow().plannedBatches() > planned);

        long capped = windows.create(store, sync("web-tracks"), T1, T2, 1_000_000, "test", clock.instant());
        store.cancel(id, clock.instant());
        for (int i = 0; i < 40; i++) planner.tick();
        assertThat(store.get(capped).orElseThrow().plannedBatches()).isEqualTo(4); // all of it: below the cap
        assertThat(store.get(id).orElseThrow().status()).isEqualTo(Backfill.Status.CANCELLED);
        assertThat(scalar("SELECT count(*) FROM batches WHERE lane = " + id + " AND status = 'pending'"))
                .as("a cancelled backfill's waiting batches are dropped")
                .isZero();
    }

    @Test
    void pauseResumeAndCancelTakeHoldAtTheNextTick() throws Exception {
        long id = windows.create(store, sync("web-all"), T1, T2, 1_000_000, "test", clock.instant());
        BackfillPlanner planner = planner();
        store.pause(id, clock.instant());
        for (int i = 0; i < 20; i++) planner.tick();
        assertThat(store.get(id).orElseThrow().plannedBatches()).isZero();
        assertThat(store.get(id).orElseThrow().status()).isEqualTo(Backfill.Status.PAUSED);
        assertThat(store.resume(id, clock.instant())).isTrue();
        tickUntil(planner, () -> store.get(id).orElseThrow().plannedBatches() >= BackfillPlanner.IN_FLIGHT_BATCHES - 1);
        assertThat(store.get(id).orElseThrow().plannedBatches())
                .as("no more than the in-flight cap (and one poll's end-of-partition cuts) while nothing is delivered")
                .isLessThanOrEqualTo(BackfillPlanner.IN_FLIGHT_BATCHES + 2);
        assertThat(store.cancel(id, clock.instant())).isTrue();
        long after = store.get(id).orElseThrow().plannedBatches();
        for (int i = 0; i < 20; i++) planner.tick();
        assertThat(store.get(id).orElseThrow().plannedBatches()).isEqualTo(after);
        assertThat(store.resume(id, clock.instant()))
                .as("a cancelled backfill stays cancelled")
                .isFalse();
        assertThat(windows.create(store, sync("web-all"), T1, T2, 100, "test", clock.instant()))
                .as("once cancelled, the sync may be backfilled again")
                .isGreaterThan(id);
    }

    @Test
    void anotherPlannerTakesOverAnExpiredLeaseAndContinuesWhereTheFirstRecorded() throws Exception {
        long id = windows.create(store, sync("web-all"), T1, T2, 10, "test", clock.instant());
        BackfillPlanner first = planner();
        BackfillPlanner second = planner();
        tickUntil(first, () -> store.get(id).orElseThrow().plannedBatches() >= 1);
        long planned = store.get(id).orElseThrow().plannedBatches();
        clock.tick(Duration.ofSeconds(1));
        for (int i = 0; i < 10; i++) second.tick(); // the first one's lease holds
        assertThat(store.get(id).orElseThrow().plannedBatches()).isEqualTo(planned);
        clock.tick(Duration.ofSeconds(20)); // the first planner died: its lease expires
        deliverAll(id);
        tickUntil(second, () -> {
            deliverAll(id);
            clock.tick(Duration.ofSeconds(1));
            return store.get(id).orElseThrow().status() == Backfill.Status.DONE;
        });
        first.tick(); // comes back: its lease was taken over, it plans nothing
        Backfill done = store.get(id).orElseThrow();
        assertThat(done.plannedEvents()).isEqualTo(62);
        assertThat(done.plannedBatches()).isEqualTo(7);
        assertThat(ranges(id, 0))
                .isEqualTo(List.of(
                        List.of(30L, 39L), List.of(40L, 49L), List.of(50L, 59L), List.of(60L, 69L), List.of(70L, 79L)));
        assertThat(ranges(id, 1)).isEqualTo(List.of(List.of(10L, 19L), List.of(20L, 26L)));
    }

    private BackfillPlanner planner() {
        return new BackfillPlanner(config, TestKafka.clients(), store, clock);
    }

    private SyncSettings sync(String id) {
        return config.syncs().stream()
                .filter(s -> s.id().equals(id))
                .findFirst()
                .orElseThrow();
    }

    private static void tickUntil(BackfillPlanner planner, java.util.concurrent.Callable<Boolean> done) {
        await().atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(1))
                .until(() -> {
                    planner.tick();
                    return done.call();
                });
    }

    private static void add(List<Timed> records, int partition, String source, int count, Instant at) {
        for (int i = 0; i < count; i++) {
            String user = source.charAt(0) + "" + i;
            String type = i % 2 == 0 ? "track" : "identify";
            String id = source + "-" + partition + "-" + at.getEpochSecond() + "-" + i;
            records.add(new Timed(partition, source, user, TestEvents.event(source, type, user, "E", id), at));
        }
    }

    private void deliverAll(long lane) throws Exception {
        try (var c = database.dataSource().getConnection();
                var s = c.createStatement()) {
            s.executeUpdate("UPDATE batches SET status = 'done', finished_at = now() WHERE lane = " + lane
                    + " AND status IN ('pending', 'running')");
        }
    }

    private List<List<Long>> ranges(long lane, int partition) throws Exception {
        List<List<Long>> ranges = new ArrayList<>();
        try (var c = database.dataSource().getConnection();
                var ps = c.prepareStatement(
                        "SELECT first_offset, last_offset FROM batches WHERE lane = ? AND kafka_partition = ? ORDER BY first_offset")) {
            ps.setLong(1, lane);
            ps.setInt(2, partition);
            try (var rs = ps.executeQuery()) {
                while (rs.next()) ranges.add(List.of(rs.getLong(1), rs.getLong(2)));
            }
        }
        return ranges;
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
