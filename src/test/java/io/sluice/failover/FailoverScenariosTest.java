package io.sluice.failover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.support.Cli;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Writer failover, planned and unplanned, with continuous load through the collector, on a real primary and hot
 * standby behind a switchable cluster endpoint. In every scenario: every event that got a 200 ends up in the
 * warehouse exactly once, the process is never restarted, the collector never fails a request, and delivery
 * resumes within 15 s of a writer being reachable again.
 */
class FailoverScenariosTest {
    static final Duration RESUME_WITHIN = Duration.ofSeconds(15);

    @TempDir Path dir;

    @Test
    void a_unplannedFailoverPrimaryKilledStandbyPromoted() throws Exception {
        try (FailoverRig rig = new FailoverRig(dir)) {
            rig.startLoad();
            awaitDelivering(rig);
            rig.cluster.killPrimary();
            rig.cluster.promoteStandby();
            rig.proxy.switchTo(rig.cluster.standbyPort(), true);
            assertResumesAndDeliversEverythingOnce(rig, Instant.now());
        }
    }

    @Test
    void b_theIncidentEndpointStaysOnTheDemotedReadOnlyWriter() throws Exception {
        try (FailoverRig rig = new FailoverRig(dir)) {
            rig.startLoad();
            awaitDelivering(rig);
            rig.cluster.promoteStandby();
            rig.cluster.restartReadOnly(rig.cluster.primaryPort()); // the endpoint still points here: writes get 25006
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> rig.sluice.writerMonitor().alarms().raised(Alarms.ENDPOINT_NOT_WRITER) > 0);
            Thread.sleep(3000);
            assertThat(rig.sluice.guard().gate().isWritable()).as("writes held while the endpoint is read-only").isFalse();
            rig.proxy.switchTo(rig.cluster.standbyPort(), true);
            assertResumesAndDeliversEverythingOnce(rig, Instant.now());
        }
    }

    @Test
    void c_flappingEndpointWithASplitBrainWindow() throws Exception {
        try (FailoverRig rig = new FailoverRig(dir)) {
            rig.startLoad();
            awaitDelivering(rig);
            rig.cluster.promoteStandby(); // the old primary still takes writes too: split brain
            rig.proxy.switchTo(rig.cluster.standbyPort(), true);
            Thread.sleep(2000);
            rig.proxy.switchTo(rig.cluster.primaryPort(), true);
            Thread.sleep(2000);
            rig.proxy.switchTo(rig.cluster.standbyPort(), true);
            await().atMost(Duration.ofSeconds(10)).until(() -> rig.sluice.writerMonitor().alarms().raised(Alarms.SPLIT_WRITER) > 0);
            rig.cluster.kill(rig.cluster.primaryPort()); // the losing writer goes, with whatever was written to it
            assertResumesAndDeliversEverythingOnce(rig, Instant.now());
        }
    }

    @Test
    void d_plannedFailoverWithDbPause() throws Exception {
        try (FailoverRig rig = new FailoverRig(dir)) {
            rig.startLoad();
            awaitDelivering(rig);
            String paused = Cli.run("db", "pause", "--config", rig.configFile.toString(), "--timeout", "30s");
            assertThat(paused).contains("safe to fail over").contains("quiesced");

            long statements = rig.sluice.queueStore().statementCount();
            String oldPrimary = rig.queueFingerprint(rig.cluster.primaryPort());
            rig.cluster.promoteStandby();
            rig.proxy.switchTo(rig.cluster.standbyPort(), true);
            String newPrimary = rig.queueFingerprint(rig.cluster.standbyPort());
            Thread.sleep(4000);
            assertThat(rig.sluice.queueStore().statementCount()).as("no queue statements while quiesced").isEqualTo(statements);
            assertThat(rig.queueFingerprint(rig.cluster.primaryPort())).as("no writes to the old primary").isEqualTo(oldPrimary);
            assertThat(rig.queueFingerprint(rig.cluster.standbyPort())).as("no writes to the new primary").isEqualTo(newPrimary);

            assertThat(Cli.run("db", "status", "--config", rig.configFile.toString())).contains("PAUSED").contains("quiesced");
            assertThat(Cli.run("db", "resume", "--config", rig.configFile.toString())).contains("Resumed");
            assertResumesAndDeliversEverythingOnce(rig, Instant.now());
        }
    }

    private static void awaitDelivering(FailoverRig rig) {
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() -> rig.warehouseRows() > 100);
    }

    /** Delivery resumes within 15 s of {@code writerBack}; after the load stops every acknowledged event is one row. */
    private static void assertResumesAndDeliversEverythingOnce(FailoverRig rig, Instant writerBack) throws Exception {
        await().atMost(RESUME_WITHIN).pollInterval(Duration.ofMillis(200))
                .until(() -> rig.latestDelivered().isAfter(writerBack));
        Thread.sleep(2000);
        rig.stopLoad();
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                .until(() -> rig.warehouseDistinctAcknowledged() == rig.acknowledged.size());
        Thread.sleep(1500);
        assertThat(rig.httpErrors.get()).as("the collector never failed a request").isZero();
        assertThat(rig.warehouseDistinctAcknowledged()).isEqualTo(rig.acknowledged.size());
        assertThat(rig.warehouseRows()).as("exactly once: no other rows").isEqualTo(rig.acknowledged.size());
    }
}
