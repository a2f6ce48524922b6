package io.sluice.failover;

import static io.sluice.failover.FailoverScenariosTest.assertResumesAndDeliversEverything;
import static io.sluice.failover.FailoverScenariosTest.awaitDelivering;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.Counter;
import io.sluice.support.WallClock;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The faults that take longest (failsafe): a lost write made certain, and a black-holed database. Both with load
 * running through the collector and every sink counted; no restart.
 */
class FailoverFaultsIT {
    private static final Logger log = LoggerFactory.getLogger(FailoverFaultsIT.class);
    /** postgres.socketTimeout in the rig: the bound within which a silent server is noticed. */
    private static final Duration SOCKET_TIMEOUT = Duration.ofSeconds(3);

    @TempDir
    Path dir;

    /**
     * The standby is detached (WAL replay paused, stream cut) while load runs, so batch rows, planning positions,
     * claims and completions commit on the primary only; the primary is then SIGKILLed and the standby promoted.
     * Kafka's committed offsets are ahead of the positions the new writer has: the planner must plan from the
     * latter, so nothing acknowledged is lost; what the non-deduping sinks get twice is counted.
     */
    @Test
    void lostWriteMadeCertain() throws Exception {
        try (FailoverRig rig = new FailoverRig(dir)) {
            rig.startLoad();
            awaitDelivering(rig);
            rig.cluster.awaitStandbyCaughtUp();
            rig.cluster.detachStandby();
            long standbyBatches = rig.queueScalar(rig.cluster.standbyPort(), "SELECT count(*) FROM batches");
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> rig.queueScalar(rig.cluster.primaryPort(), "SELECT count(*) FROM batches")
                            > standbyBatches + 30);
            WallClock.waitOut(Duration.ofSeconds(1), "more writes under load that the detached standby never sees");
            long primaryBatches = rig.queueScalar(rig.cluster.primaryPort(), "SELECT count(*) FROM batches");
            long primaryDone =
                    rig.queueScalar(rig.cluster.primaryPort(), "SELECT count(*) FROM batches WHERE status = 'done'");
            rig.cluster.sigkill(rig.cluster.primaryPort());
            Map<Integer, Long> committed = rig.plannerCommittedOffsets();

            rig.cluster.promoteStandby();
            Map<Integer, Long> positions = rig.positions(rig.cluster.standbyPort());
            long lostBatches =
                    primaryBatches - rig.queueScalar(rig.cluster.standbyPort(), "SELECT count(*) FROM batches");
            long lostDone = primaryDone
                    - rig.queueScalar(rig.cluster.standbyPort(), "SELECT count(*) FROM batches WHERE status = 'done'");
            log.info(
                    "lost write: committed offsets {} vs new writer's positions {}; lost {} batch rows, {} completions",
                    committed,
                    positions,
                    lostBatches,
                    lostDone);
            assertThat(lostBatches)
                    .as("batch rows committed on the old primary only")
                    .isPositive();
            assertThat(committed)
                    .as("Kafka's committed offsets are ahead of the new writer's positions")
                    .anySatisfy((partition, offset) ->
                            assertThat(offset).isGreaterThan(positions.getOrDefault(partition, 0L)));

            rig.proxy.switchTo(rig.cluster.standbyPort(), true);
            Instant back = Instant.now();
            FailoverRig.Tally tally =
                    assertResumesAndDeliversEverything(rig, back, "lost write (SIGKILL after detaching the standby)");
            // Re-planned from the new writer's positions: a batch of the warehouse sync starts exactly there again.
            for (var entry : positions.entrySet()) {
                if (committed.getOrDefault(entry.getKey(), 0L) <= entry.getValue()) continue;
                assertThat(rig.queueScalar(
                                rig.cluster.standbyPort(),
                                "SELECT count(*) FROM batches WHERE sync_id = '" + FailoverRig.WAREHOUSE_SYNC
                                        + "' AND kafka_partition = " + entry.getKey() + " AND first_offset = "
                                        + entry.getValue()))
                        .as("partition %d re-planned from offset %d", entry.getKey(), entry.getValue())
                        .isEqualTo(1);
            }
            assertThat(tally.webhookTwice() + tally.mirrorTwice())
                    .as("lost completions are delivered again (and counted)")
                    .isPositive();
        }
    }

    /**
     * The endpoint swallows every byte and closes nothing. Statements in flight fail after postgres.socketTimeout,
     * the pool evicts, writes hold; when the endpoint forwards again everything recovers without a restart.
     */
    @Test
    void blackHoledDatabase() throws Exception {
        try (FailoverRig rig = new FailoverRig(dir)) {
            rig.startLoad();
            awaitDelivering(rig);
            double errorsBefore = connectionErrors(rig);
            Instant holed = Instant.now();
            rig.proxy.blackHole();
            await().atMost(SOCKET_TIMEOUT.plusSeconds(2))
                    .pollInterval(Duration.ofMillis(50))
                    .until(() -> !rig.sluice.guard().gate().isWritable());
            Duration held = Duration.between(holed, Instant.now());
            await().atMost(SOCKET_TIMEOUT.plusSeconds(3))
                    .pollInterval(Duration.ofMillis(50))
                    .until(() -> connectionErrors(rig) > errorsBefore);
            Duration noticed = Duration.between(holed, Instant.now());
            // Nothing stays stuck on a dead socket: every connection open when the endpoint went silent is given up
            // (in use: after the socket timeout; idle in the pool: evicted at the first writer-loss error).
            await().atMost(SOCKET_TIMEOUT.multipliedBy(2).plusSeconds(2))
                    .pollInterval(Duration.ofMillis(100))
                    .until(() -> rig.proxy.openSinceBlackHole() == 0);
            Duration allEvicted = Duration.between(holed, Instant.now());
            log.info(
                    "black hole: writes held after {} ms, first statement failed after {} ms, every black-holed connection dropped after {} ms",
                    held.toMillis(),
                    noticed.toMillis(),
                    allEvicted.toMillis());
            WallClock.waitOut(Duration.ofSeconds(2), "the black hole lasts on after every connection was dropped");
            rig.proxy.restore();
            Instant restored = Instant.now();
            // Events collected while the database was silent wait in Kafka: room for that backlog as in a planned
            // pause.
            assertResumesAndDeliversEverything(
                    rig,
                    restored,
                    FailoverScenariosTest.RESUME_WITHIN.plus(Duration.between(holed, restored)),
                    "black-holed database (" + allEvicted.toMillis() + " ms until all evicted)");
        }
    }

    /** Pooled-connection errors that mean the writer is unreachable (08xxx), as the pool's override counted them. */
    private static double connectionErrors(FailoverRig rig) {
        return rig.sluice.registry().find("sluice.db.errors").counters().stream()
                .filter(c -> c.getId().getTag("sqlstate") != null
                        && c.getId().getTag("sqlstate").startsWith("08"))
                .mapToDouble(Counter::count)
                .sum();
    }
}
