package io.sluice.queue;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.db.QueueDatabase;
import io.sluice.failover.WriteGate;
import io.sluice.support.MutableClock;
import io.sluice.support.TestPostgres;
import java.sql.Connection;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Replaying dead letters reports what it did (bug 4 of issue 25: letters whose function failed again were rerun but
 * reported as "Replayed 0"), what became of them afterwards, the Failed events page's grouping by error, and the
 * delivery counts a replay and a flush add (V20, real PostgreSQL).
 */
class DeadLetterReplayOutcomeTest {
    static final ObjectMapper JSON = new ObjectMapper();

    final MutableClock clock = new MutableClock(Instant.parse("2026-05-01T10:00:30Z"));
    QueueDatabase database;
    DeadLetterStore deadLetters;
    RetryStore retries;
    QueueStore store;

    @BeforeEach
    void setUp() {
        database = new QueueDatabase(TestPostgres.createDatabase("replay_outcome"), TestPostgres.USER, "", 2);
        database.start();
        WriteGate gate = new WriteGate(clock, Duration.ZERO);
        deadLetters = new DeadLetterStore(database.dataSource(), gate);
        retries = new RetryStore(database.dataSource(), gate);
        store = new QueueStore(
                database.dataSource(), "t", new io.micrometer.core.instrument.simple.SimpleMeterRegistry(), gate);
    }

    @AfterEach
    void tearDown() {
        database.close();
    }

    static ObjectNode event(String id) throws Exception {
        return (ObjectNode) JSON.readTree("{\"type\":\"track\",\"event\":\"E\",\"userId\":\"u-" + id
                + "\",\"messageId\":\"" + id + "\",\"receivedAt\":\"2026-05-01T10:00:00.000Z\"}");
    }

    List<Long> ids(String sync) throws Exception {
        List<Long> ids = new ArrayList<>();
        for (DeadLetter d : deadLetters.list(sync, null, true, 100)) ids.add(d.id());
        return ids;
    }

    @Test
    void lettersWhoseFunctionFailsAgainAreReportedRerunAndFailedAgainNotReplayedZero() throws Exception {
        deadLetters.add(
                List.of(
                        DeadLetter.of("s", event("f1"), DeadLetterKind.FUNCTION, "TypeError at line 3", null, 1, null),
                        DeadLetter.of("s", event("f2"), DeadLetterKind.FUNCTION, "TypeError at line 3", null, 1, null)),
                clock.instant());
        List<Long> ids = ids("s");
        DeadLetterReplay replay = new DeadLetterReplay(deadLetters, retries, clock, (sync, e) -> {
            throw new IllegalStateException("TypeError at line 3");
        });

        DeadLetterReplay.Result result = replay.run("s", null, null, n -> {});

        assertThat(result.rerun())
                .as("both were run through the function again")
                .isEqualTo(2);
        assertThat(result.failedAgain()).isEqualTo(2);
        assertThat(result.handedBack()).isZero();
        assertThat(result.ids()).containsExactlyInAnyOrderElementsOf(ids);
        assertThat(deadLetters.list("s", null, true, 10))
                .allSatisfy(d -> assertThat(d.attempts()).isEqualTo(2));
        assertThat(new DeadLetterSummary(database.dataSource()).outcome(ids))
                .isEqualTo(new DeadLetterSummary.ReplayOutcome(0, 2, 0, 0));
        // the int API (CLI) says the same: 2 rerun, where it said 0 before
        assertThat(replay.replay("s", null, null, n -> {})).isEqualTo(2);
    }

    @Test
    void theOutcomeFollowsReplayedLettersFromPendingToDeliveredOrFailedAgain() throws Exception {
        deadLetters.add(
                List.of(
                        DeadLetter.of("s", event("a"), DeadLetterKind.DELIVERY, "event a: HTTP 400: bad", 400, 3, null),
                        DeadLetter.of("s", event("b"), DeadLetterKind.DELIVERY, "event b: HTTP 400: bad", 400, 3, null),
                        DeadLetter.of("s", event("c"), DeadLetterKind.DELIVERY, "HTTP 503: down", 503, 3, null)),
                clock.instant());
        DeadLetterSummary summary = new DeadLetterSummary(database.dataSource());
        List<DeadLetterSummary.Group> groups = summary.groups("s", null, 10);
        assertThat(groups).hasSize(2);
        assertThat(groups.get(0).reason()).as("the event's id is left out").isEqualTo("HTTP 400: bad");
        assertThat(groups.get(0).count()).isEqualTo(2);
        assertThat(groups.get(0).statusCode()).isEqualTo(400);
        assertThat(groups.get(0).ids()).hasSize(2).contains(groups.get(0).sampleId());
        assertThat(groups.get(1).reason()).isEqualTo("HTTP 503: down");

        List<Long> ids = ids("s");
        DeadLetterReplay.Result result =
                new DeadLetterReplay(deadLetters, retries, clock, null).run("s", null, null, n -> {});
        assertThat(result.rerun()).isEqualTo(3);
        assertThat(summary.outcome(ids)).isEqualTo(new DeadLetterSummary.ReplayOutcome(0, 0, 3, 0));
        assertThat(summary.groups("s", null, 10))
                .as("replayed letters are no longer failed events")
                .isEmpty();

        // "a" is delivered (leaves the retry queue); "b" fails again (a dead letter again); "c" still waits
        try (Connection c = database.dataSource().getConnection()) {
            c.createStatement().executeUpdate("DELETE FROM retry_events WHERE message_id IN ('a', 'b')");
        }
        clock.tick(Duration.ofSeconds(5));
        deadLetters.add(
                List.of(DeadLetter.of("s", event("b"), DeadLetterKind.DELIVERY, "HTTP 400: bad", 400, 1, null)),
                clock.instant());
        assertThat(summary.outcome(ids)).isEqualTo(new DeadLetterSummary.ReplayOutcome(1, 1, 1, 0));
        assertThat(summary.outcome(List.of(ids.get(0), 999_999L)).gone()).isEqualTo(1);
    }

    @Test
    void countsAreAddedToTheirMinuteRowsByReplaysAndFlushes() throws Exception {
        deadLetters.add(
                List.of(DeadLetter.of("s", event("r"), DeadLetterKind.DELIVERY, "HTTP 500", 500, 3, null)),
                clock.instant());
        new DeadLetterReplay(deadLetters, retries, clock, null).run("s", null, null, n -> {});

        SyncCounts counts = new SyncCounts();
        Instant minute = Instant.parse("2026-05-01T10:00:00Z");
        counts.add("s", minute.plusSeconds(10), SyncCounts.Column.DELIVERED, 3);
        counts.add("s", minute.plusSeconds(50), SyncCounts.Column.FAILED_5XX, 2);
        counts.latency("s", minute, 7); // bucket <= 10 ms
        counts.latency("s", minute, 4_000); // bucket <= 5 s
        store.addCounts(counts);
        assertThat(counts.isEmpty()).as("flushed").isTrue();
        SyncCounts more = new SyncCounts();
        more.add("s", minute, SyncCounts.Column.DELIVERED, 1);
        more.latency("s", minute, 8);
        long[] batch = new long[SyncCounts.LATENCY_BOUNDS_MS.length + 1];
        batch[SyncCounts.bucketOf(9)] = 3; // a worker's batch: its latencies added at once
        more.latencies("s", minute, batch);
        store.addCounts(more);

        DeliveryAccounting.Report report = new DeliveryAccounting(database.dataSource())
                .read("s", "web", minute, minute.plus(Duration.ofHours(1)), Duration.ofMinutes(1));
        DeliveryAccounting.Totals t = report.totals();
        assertThat(t.delivered()).isEqualTo(4);
        assertThat(t.failed5xx()).isEqualTo(2);
        assertThat(t.replayed()).as("added in the replay's transaction").isEqualTo(1);
        assertThat(t.latency()[SyncCounts.bucketOf(7)]).isEqualTo(5);
        assertThat(t.percentileAtMost(0.5)).isEqualTo(10);
        assertThat(t.percentileAtMost(0.99)).isEqualTo(5_000);
        assertThat(report.pendingRetries()).isEqualTo(1);
        assertThat(report.trend()).hasSize(1);
        try (Connection c = database.dataSource().getConnection();
                ResultSet rs = c.createStatement().executeQuery("SELECT count(*) FROM sync_counts")) {
            rs.next();
            assertThat(rs.getLong(1)).as("one row per sync and minute").isEqualTo(1);
        }
    }
}
