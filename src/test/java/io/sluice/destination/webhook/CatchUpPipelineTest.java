package io.sluice.destination.webhook;

import static io.sluice.destination.webhook.BadWebhookRig.assertOrdered;
import static io.sluice.destination.webhook.BadWebhookRig.config;
import static io.sluice.destination.webhook.BadWebhookRig.count;
import static io.sluice.destination.webhook.BadWebhookRig.query;
import static io.sluice.destination.webhook.BadWebhookRig.sendRound;
import static io.sluice.destination.webhook.BadWebhookRig.start;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.destination.webhook.BadWebhookRig.Accepted;
import io.sluice.runtime.Sluice;
import io.sluice.support.WallClock;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Catch-up: a webhook that was down (100 % 500) while events kept coming gets its whole backlog once it answers,
 * while ingest goes on, once each, in per-user order, with nothing dead-lettered. The drain rate is measured and
 * logged (throughput is asserted in bench, not here); the test only bounds the drain generously.
 */
class CatchUpPipelineTest {
    private static final Logger log = LoggerFactory.getLogger(CatchUpPipelineTest.class);
    static final int USERS = 10;
    static final long ROUND_MILLIS = 100; // 100 events/s
    static final Duration DOWN = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    @Test
    void aRecoveredWebhookDrainsItsBacklogInOrderWhileIngestGoesOn() throws Exception {
        try (TestReceiver healthy = new TestReceiver();
                TestReceiver bad = new TestReceiver()) {
            Accepted healthyAccepted = new Accepted();
            healthy.answer(healthyAccepted.record(r -> TestReceiver.Reply.ok()));
            Accepted badAccepted = new Accepted();
            bad.answer(r -> TestReceiver.Reply.status(500).body("down"));
            try (Sluice sluice = start(config(dir, healthy.url(), bad.url(), Duration.ofSeconds(2)))) {
                List<String> sent = Collections.synchronizedList(new ArrayList<>());
                AtomicBoolean sending = new AtomicBoolean(true);
                Thread sender = Thread.ofVirtual().start(() -> {
                    long next = System.nanoTime();
                    for (int seq = 0; sending.get(); seq++) {
                        sent.addAll(sendRound(sluice, "c", USERS, seq));
                        next += ROUND_MILLIS * 1_000_000;
                        long wait = next - System.nanoTime();
                        if (wait > 0) {
                            try {
                                Thread.sleep(Duration.ofNanos(wait)); // wall clock: ingest at a fixed real rate
                            } catch (InterruptedException e) {
                                return;
                            }
                        }
                    }
                });
                long sendingSince = System.nanoTime();
                WallClock.waitOut(DOWN, "the bad receiver stays down this long while ingest goes on");
                List<String> backlog = List.copyOf(sent);
                long recovered = System.nanoTime();
                bad.answer(badAccepted.record(r -> TestReceiver.Reply.ok()));
                // Ingest goes on while the backlog drains; the drain is timed to the moment the bad receiver holds
                // every event accepted before it recovered, not to the end of ingest.
                long cleared = 0;
                int deliveredWhenCleared = 0;
                while (System.nanoTime() - recovered < DOWN.toNanos()) {
                    if (cleared == 0 && badAccepted.hasAll(backlog)) {
                        cleared = System.nanoTime();
                        deliveredWhenCleared = badAccepted.counts().size();
                    }
                    Thread.sleep(20); // wall clock: samples the drain every 20 ms for a fixed window of DOWN
                }
                sending.set(false);
                sender.join();
                double ingestRate = sent.size() / ((System.nanoTime() - sendingSince) / 1e9);
                List<String> all = List.copyOf(sent);
                long[] lastLog = {0};
                await().atMost(Duration.ofSeconds(150))
                        .pollInterval(Duration.ofMillis(100))
                        .until(() -> {
                            if (System.nanoTime() / 5_000_000_000L != lastLog[0]) {
                                lastLog[0] = System.nanoTime() / 5_000_000_000L;
                                log.info(
                                        "Catching up: bad {} of {}; retry rows {}; bad batches unfinished {}",
                                        badAccepted.counts().size(),
                                        all.size(),
                                        count(sluice, "retry_events"),
                                        query(
                                                sluice,
                                                "SELECT count(*) FROM batches WHERE sync_id = 'to-bad'"
                                                        + " AND status IN ('pending', 'running')"));
                            }
                            return badAccepted.hasAll(all);
                        });
                double seconds = (System.nanoTime() - recovered) / 1e9;
                double drainSeconds = cleared == 0 ? Double.NaN : (cleared - recovered) / 1e9;
                log.info(
                        "Catch-up: backlog of {} events cleared {} s after the recovery, ingest going on: the bad"
                                + " receiver got {} events meanwhile, {} events/s, {}x the ingest rate",
                        backlog.size(),
                        String.format("%.2f", drainSeconds),
                        deliveredWhenCleared,
                        (int) (deliveredWhenCleared / drainSeconds),
                        String.format("%.2f", deliveredWhenCleared / drainSeconds / ingestRate));
                log.info(
                        "Catch-up: backlog {} events after {} s down; ingest {} events/s; the bad receiver got all {}"
                                + " events {} s after it recovered: {} events/s, {}x the ingest rate",
                        backlog.size(),
                        DOWN.toSeconds(),
                        (int) ingestRate,
                        all.size(),
                        String.format("%.1f", seconds),
                        (int) (all.size() / seconds),
                        String.format("%.2f", all.size() / seconds / ingestRate));
                assertThat(badAccepted.counts())
                        .as("each event once")
                        .containsOnlyKeys(all)
                        .allSatisfy((key, n) -> assertThat(n).isEqualTo(1));
                assertOrdered(badAccepted.events());
                assertThat(cleared)
                        .as("the backlog cleared while ingest went on")
                        .isPositive();
                await().atMost(Duration.ofSeconds(30)).until(() -> healthyAccepted.hasAll(all));
                assertThat(count(sluice, "dead_letters"))
                        .as("no dead letters before retry.maxAge")
                        .isZero();
            }
        }
    }
}
