package io.sluice.failover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.cli.SluiceCli;
import io.sluice.support.Cli;
import io.sluice.support.CountingReceiver;
import io.sluice.support.Http;
import io.sluice.support.StatementLog;
import io.sluice.support.WallClock;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writer failover, planned and unplanned, with continuous load through the collector, on a real primary and hot
 * standby behind a switchable cluster endpoint. In every scenario: every event that got a 200 ends up in the
 * warehouse exactly once and at the webhook receiver and the Kafka mirror at least once (what they got twice is
 * counted and logged), the process is never restarted, the collector never fails a request, and delivery resumes
 * within 15 s of a writer being reachable again. The longer fault scenarios are in {@link FailoverFaultsIT}.
 */
class FailoverScenariosTest {
    private static final Logger log = LoggerFactory.getLogger(FailoverScenariosTest.class);
    static final Duration RESUME_WITHIN = Duration.ofSeconds(15);

    @TempDir
    Path dir;

    @Test
    void a_unplannedFailoverPrimaryKilledStandbyPromoted() throws Exception {
        try (FailoverRig rig = new FailoverRig(dir)) {
            rig.startLoad();
            awaitDelivering(rig);
            rig.cluster.killPrimary();
            rig.cluster.promoteStandby();
            rig.proxy.switchTo(rig.cluster.standbyPort(), true);
            assertResumesAndDeliversEverything(rig, Instant.now(), "a: primary killed, standby promoted");
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
            // Wall clock on purpose: writes stay held for as long as the endpoint stays read-only.
            await().during(Duration.ofSeconds(3))
                    .atMost(Duration.ofSeconds(10))
                    .until(() -> !rig.sluice.guard().gate().isWritable());
            assertThat(rig.sluice.guard().gate().isWritable())
                    .as("writes held while the endpoint is read-only")
                    .isFalse();
            rig.proxy.switchTo(rig.cluster.standbyPort(), true);
            assertResumesAndDeliversEverything(rig, Instant.now(), "b: endpoint on the demoted read-only writer");
        }
    }

    @Test
    void c_flappingEndpointWithASplitBrainWindow() throws Exception {
        try (FailoverRig rig = new FailoverRig(dir)) {
            rig.startLoad();
            awaitDelivering(rig);
            rig.cluster.promoteStandby(); // the old primary still takes writes too: split brain
            rig.proxy.switchTo(rig.cluster.standbyPort(), true);
            WallClock.waitOut(Duration.ofSeconds(2), "the endpoint dwells on the new writer under load");
            rig.proxy.switchTo(rig.cluster.primaryPort(), true);
            WallClock.waitOut(Duration.ofSeconds(2), "and flaps back to the old one for a while: split brain");
            rig.proxy.switchTo(rig.cluster.standbyPort(), true);
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> rig.sluice.writerMonitor().alarms().raised(Alarms.SPLIT_WRITER) > 0);
            rig.cluster.kill(rig.cluster.primaryPort()); // the losing writer goes, with whatever was written to it
            assertResumesAndDeliversEverything(rig, Instant.now(), "c: flapping endpoint, split brain");
        }
    }

    /**
     * The runbook under load with every kind of writer busy: batches, a retry chain being delivered to a slow
     * receiver when the pause comes, dead letters (and replays of them asked for while paused), contract
     * violations, pruning every second. The witness is each server's own statement log: not one write statement
     * between "safe to fail over" and "db resume", and every table's content unchanged on both instances.
     */
    @Test
    void d_plannedFailoverWithDbPause() throws Exception {
        try (FailoverRig rig = new FailoverRig(dir, true)) {
            Set<String> failing = ConcurrentHashMap.newKeySet();
            AtomicInteger refused = new AtomicInteger();
            // u0: three events fail three times (500), so their batches hand them to the retry queue (the worker's
            // rule for events that keep failing while others go through), and their retries meet a slow receiver
            // (3 s each): a retry chain in flight. u6: five events are refused (400) and become dead letters.
            // Everything else is accepted.
            rig.receiver.answer((key, attempt) -> {
                if (key.contains("-u0-") && attempt == 1 && failing.size() < 3) failing.add(key);
                if (failing.contains(key) && attempt <= 3) return new CountingReceiver.Reply(500, Duration.ZERO);
                if (failing.contains(key)) return new CountingReceiver.Reply(200, Duration.ofSeconds(3));
                if (key.contains("-u6-") && attempt == 1 && refused.get() < 5 && refused.incrementAndGet() <= 5) {
                    return new CountingReceiver.Reply(400, Duration.ZERO);
                }
                return CountingReceiver.Reply.ok();
            });
            StatementLog primaryLog = rig.cluster.statementLog(rig.cluster.primaryPort());
            StatementLog standbyLog = rig.cluster.statementLog(rig.cluster.standbyPort());
            long started = primaryLog.mark();
            rig.startLoad();
            awaitDelivering(rig);
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> rig.queueScalar(rig.cluster.primaryPort(), "SELECT count(*) FROM dead_letters") >= 5
                            && rig.receiver.delaying() > 0);
            WallClock.waitOut(Duration.ofMillis(1500), "pruning (every second) and violations at work too");

            // A retry chain is at the slow receiver right now: "safe" must wait until it is settled.
            Instant pauseAsked = Instant.now();
            String paused = Cli.run("db", "pause", "--config", rig.configFile.toString(), "--timeout", "30s");
            long safePrimary = primaryLog.mark();
            long safeStandby = standbyLog.mark();
            long admitted = rig.sluice.guard().gate().admittedWrites();
            assertThat(paused).contains("safe to fail over").contains("quiesced");
            log.info(
                    "d: 'safe to fail over' {} ms after the pause was asked",
                    Duration.between(pauseAsked, Instant.now()).toMillis());

            List<String> kinds = primaryLog.writes(started, safePrimary, "sluice").stream()
                    .map(s -> s.sql().replaceAll("\\s+", " "))
                    .toList();
            assertThat(kinds)
                    .as("every kind of writer was busy before the pause")
                    .anyMatch(s -> s.contains("INSERT INTO batches"))
                    .anyMatch(s -> s.contains("UPDATE planner_progress"))
                    .anyMatch(s -> s.contains("UPDATE batches b SET status = 'running'"))
                    .anyMatch(s -> s.contains("UPDATE batches b SET status = 'done'"))
                    .anyMatch(s -> s.contains("INSERT INTO retry_events"))
                    .anyMatch(s -> s.contains("UPDATE retry_events r SET lease_owner"))
                    .anyMatch(s -> s.contains("DELETE FROM retry_events"))
                    .anyMatch(s -> s.contains("INSERT INTO dead_letters"))
                    .anyMatch(s -> s.contains("INSERT INTO violations"))
                    .anyMatch(s -> s.contains("DELETE FROM batches"))
                    .anyMatch(s -> s.contains("DELETE FROM dead_letters"));

            rig.cluster.awaitStandbyCaughtUp();
            String oldPrimary = rig.queueFingerprint(rig.cluster.primaryPort());
            assertThat(rig.queueFingerprint(rig.cluster.standbyPort()))
                    .as("the standby has everything")
                    .isEqualTo(oldPrimary);

            // Writers that are not long-running processes: refused while paused, with a reason.
            Cli.Result refusedReplay =
                    Cli.exec("dlq", "replay", "--config", rig.configFile.toString(), "--sync", "web-to-hooks");
            assertThat(refusedReplay.code())
                    .as(refusedReplay.out() + refusedReplay.err())
                    .isEqualTo(3);
            assertThat(refusedReplay.err()).contains("paused", "nothing replayed", "--wait");
            var admin = Http.post(
                    rig.sluice.adminUrl() + "/admin/dlq/replay",
                    "{\"sync\":\"web-to-hooks\"}",
                    "Authorization",
                    "Bearer " + FailoverRig.ADMIN_TOKEN,
                    "Content-Type",
                    "application/json");
            assertThat(admin.statusCode()).as(admin.body()).isEqualTo(409);
            assertThat(admin.headers().firstValue("Content-Type"))
                    .hasValueSatisfying(t -> assertThat(t).contains("application/json"));
            assertThat(admin.body()).contains("\"paused\":true", "\"replayed\":0", "paused by an operator");
            // ... or waiting for the resume (its output is not captured: other commands run meanwhile).
            AtomicInteger waitedReplay = new AtomicInteger(-1);
            Thread replayer = Thread.ofVirtual()
                    .start(() -> waitedReplay.set(SluiceCli.run(
                            "dlq",
                            "replay",
                            "--wait",
                            "--config",
                            rig.configFile.toString(),
                            "--sync",
                            "web-to-hooks")));

            rig.cluster.promoteStandby();
            rig.proxy.switchTo(rig.cluster.standbyPort(), true);
            String newPrimary = rig.queueFingerprint(rig.cluster.standbyPort());
            WallClock.waitOut(Duration.ofSeconds(4), "the pause must hold across the writer change for a while");
            assertThat(Cli.run("db", "status", "--config", rig.configFile.toString()))
                    .contains("PAUSED")
                    .contains("quiesced")
                    .contains("dlq-replay");

            List<StatementLog.Statement> writesOnOld = primaryLog.writes(safePrimary, -1, "sluice");
            List<StatementLog.Statement> writesOnNew = standbyLog.writes(safeStandby, -1, "sluice");
            log.info(
                    "d: statements between 'safe' and 'resume': old primary {}, new primary {} (writes: {} / {})",
                    primaryLog.statements(safePrimary, -1, "sluice").size(),
                    standbyLog.statements(safeStandby, -1, "sluice").size(),
                    writesOnOld.size(),
                    writesOnNew.size());
            assertThat(writesOnOld)
                    .as("the old primary's log: no write after 'safe'")
                    .isEmpty();
            assertThat(writesOnNew)
                    .as("the new primary's log: no write after 'safe'")
                    .isEmpty();
            assertThat(rig.queueFingerprint(rig.cluster.primaryPort()))
                    .as("every table unchanged on the old primary")
                    .isEqualTo(oldPrimary);
            assertThat(rig.queueFingerprint(rig.cluster.standbyPort()))
                    .as("every table unchanged on the new primary")
                    .isEqualTo(newPrimary);
            assertThat(rig.sluice.guard().gate().admittedWrites())
                    .as("the gate admitted no write")
                    .isEqualTo(admitted);
            assertThat(waitedReplay.get()).as("dlq replay --wait still waiting").isEqualTo(-1);

            long resumed = standbyLog.mark();
            assertThat(Cli.run("db", "resume", "--config", rig.configFile.toString()))
                    .contains("Resumed");
            Instant resumedAt = Instant.now();
            replayer.join(Duration.ofSeconds(30));
            assertThat(waitedReplay.get())
                    .as("dlq replay --wait replayed after the resume")
                    .isZero();
            assertThat(rig.queueScalar(
                            rig.cluster.standbyPort(),
                            "SELECT count(*) FROM dead_letters WHERE replayed_at IS NOT NULL"))
                    .isGreaterThanOrEqualTo(5);
            // Events collected while paused wait in Kafka: catching up with them may take longer than the pause.
            FailoverRig.Tally tally = assertResumesAndDeliversEverything(
                    rig, resumedAt, RESUME_WITHIN.plus(Duration.between(pauseAsked, resumedAt)), "d: planned failover");
            assertThat(standbyLog.writes(resumed, -1, "sluice"))
                    .as("writes go to the new primary after the resume")
                    .isNotEmpty();
            assertThat(tally.webhookTwice())
                    .as("planned: nothing delivered twice to the webhook")
                    .isZero();
            assertThat(tally.mirrorTwice())
                    .as("planned: nothing delivered twice to the mirror")
                    .isZero();
        }
    }

    static void awaitDelivering(FailoverRig rig) {
        await().atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(200))
                .until(() -> rig.warehouseRows() > 100);
    }

    /**
     * Delivery resumes within 15 s of {@code writerBack}; after the load stops every acknowledged event is one row in
     * the warehouse and reached the webhook and the mirror. Returns (and logs) what the sinks got twice.
     */
    static FailoverRig.Tally assertResumesAndDeliversEverything(FailoverRig rig, Instant writerBack, String scenario)
            throws Exception {
        return assertResumesAndDeliversEverything(rig, writerBack, RESUME_WITHIN, scenario);
    }

    /** As above, with room for a backlog: an event received after {@code writerBack} is delivered within {@code within}. */
    static FailoverRig.Tally assertResumesAndDeliversEverything(
            FailoverRig rig, Instant writerBack, Duration within, String scenario) throws Exception {
        long rowsAtBack = rig.warehouseRows();
        await().atMost(within).pollInterval(Duration.ofMillis(100)).until(() -> rig.warehouseRows() > rowsAtBack);
        Duration firstDelivery = Duration.between(writerBack, Instant.now());
        await().atMost(within)
                .pollInterval(Duration.ofMillis(200))
                .until(() -> rig.latestDelivered().isAfter(writerBack));
        Duration recovery = Duration.between(writerBack, Instant.now());
        WallClock.waitOut(Duration.ofSeconds(2), "the load goes on for a while after recovery");
        rig.stopLoad();
        await().atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(500))
                .until(rig::allDelivered);
        WallClock.waitOut(Duration.ofMillis(1500), "a late duplicate delivery would land now");
        FailoverRig.Tally tally = rig.tally();
        log.info(
                "{}: first delivery {} ms and caught up (an event received after it delivered) {} ms after the writer was back;"
                        + " {} acknowledged; {}",
                scenario,
                firstDelivery.toMillis(),
                recovery.toMillis(),
                rig.acknowledged.size(),
                tally);
        assertThat(rig.httpErrors.get())
                .as("the collector never failed a request")
                .isZero();
        assertThat(tally.lostWarehouse()).as("nothing lost (warehouse)").isZero();
        assertThat(tally.lostWebhook()).as("nothing lost (webhook)").isZero();
        assertThat(tally.lostMirror()).as("nothing lost (mirror)").isZero();
        assertThat(tally.warehouseRows())
                .as("exactly once in the warehouse: no other rows")
                .isEqualTo(rig.acknowledged.size());
        return tally;
    }
}
