package io.sluice.worker;

import static io.sluice.support.Http.basic;
import static io.sluice.support.Http.post;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.config.ConfigLoader;
import io.sluice.config.SluiceConfig;
import io.sluice.runtime.Sluice;
import io.sluice.support.CountingReceiver;
import io.sluice.support.TestKafka;
import io.sluice.support.TestPostgres;
import java.sql.DriverManager;
import java.time.Clock;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The queue database's transactions, counted by the server ({@code pg_stat_database} of the test's own database): a
 * batch costs one transaction to plan, one to claim, one to complete and one to look up which of its users have
 * events waiting in the retry queue (a webhook destination); the work on timers costs a bounded number of
 * transactions a second whatever the traffic. Batches go one at a time (each delivered before the next is sent), so
 * none shares a transaction with another and the count per batch is the structure's, not the grouping's.
 *
 * <p>The timers an operator sets (the claimer's fallback poll, heartbeats, pruning, the writer probe) are set long
 * here: they are costs per second that the configuration decides. What remains are the rounds in code: the privacy
 * executor (2 a second, being replaced by LISTEN/NOTIFY), the backfill planner looking for backfills (1 a second while
 * it holds none; it was 10), the retry loop (silent while the retry queue is empty, since new rows are announced; it
 * was 2), the listening connection's writer check, and the pool's liveness checks of connections unused for 5 s (each
 * a transaction; they were checked after 500 ms). Before these changes the rounds alone were about 20 transactions a
 * second, over the bound below whatever the speed of the machine; on 2026-12-08 (loaded machine) this test counted
 * 274 transactions for its 30 batches in 7.5 s before, and 208 in 13.0 s and 186 in 7.7 s after.
 */
class QueueTransactionsTest {
    static final int BATCHES = 30;
    static final int EVENTS_PER_BATCH = 10;
    /**
     * Plan, claim, completion, the look-up of waiting users, and one for what varies with the run: on 2026-12-08 after
     * merging the backfill slot cap and the privacy listener this test counted 226-228 for its 30 batches in 7.1-7.6 s
     * (205 in 7.1 s on the queue-transactions branch alone), i.e. about 0.75 a batch more than the four named here;
     * where it comes from is not yet found. A fifth transaction per batch would fail this bound.
     */
    static final int PER_BATCH = 5;
    /**
     * The rounds in code (see the class comment), at most, per second of the run: measured 8-9 on a loaded machine
     * (about 20 before).
     */
    static final int PER_SECOND = 10;
    /** Start-up and shut-down writes inside the window, and statistics of the warm-up flushed into it. */
    static final int SLACK = 20;

    @Test
    void aBatchCostsFourTransactionsAndTheTimersAFewASecond() throws Exception {
        String queueUrl = TestPostgres.createDatabase("xacts");
        String id = UUID.randomUUID().toString();
        try (CountingReceiver receiver = new CountingReceiver()) {
            SluiceConfig config = new ConfigLoader(Map.of()).loadYaml("""
                    kafka: {bootstrapServers: "%s", eventsTopic: xacts-%s, partitions: 1, controlTopic: control-%s}
                    postgres: {url: "%s", user: sluice, probeInterval: 1h}
                    collector: {host: 127.0.0.1, port: 0}
                    admin: {host: 127.0.0.1, port: 0}
                    sources: [{id: web, writeKey: wk_xacts}]
                    destinations: [{id: hooks, type: webhook, url: "%s"}]
                    syncs:
                      - {id: to-hooks, source: web, destination: hooks, batch: {maxEvents: %d, maxAge: 1h}}
                    planner: {groupId: xacts-%s}
                    worker: {pollInterval: 1h, leaseDuration: 3h, heartbeatInterval: 1h, pruneInterval: 1h}
                    """.formatted(
                            TestKafka.bootstrapServers(), id, id, queueUrl, receiver.url(), EVENTS_PER_BATCH, id));
            long before;
            long started;
            try (Sluice sluice = new Sluice(
                    config,
                    EnumSet.of(Sluice.Role.COLLECTOR, Sluice.Role.PLANNER, Sluice.Role.WORKER),
                    false,
                    Clock.systemUTC())) {
                sluice.start();
                sendBatch(sluice, receiver, 0); // warm-up: connections, the planner's first position
                before = transactions(queueUrl);
                started = System.nanoTime();
                for (int n = 1; n <= BATCHES; n++) sendBatch(sluice, receiver, n);
                assertThat(doneBatches(queueUrl)).isEqualTo(BATCHES + 1);
            } // every backend of the pool exits and so flushes its statistics
            double seconds = (System.nanoTime() - started) / 1e9;
            long counted = transactions(queueUrl) - before;
            System.out.printf(
                    "queue transactions: %d for %d batches in %.1f s (%.2f per batch)%n",
                    counted, BATCHES, seconds, counted / (double) BATCHES);
            assertThat(counted)
                    .as("%d batches one after another in %.1f s", BATCHES, seconds)
                    .isLessThanOrEqualTo((long) (PER_BATCH * BATCHES + PER_SECOND * seconds + SLACK));
        }
    }

    /** Sends one batch's events and waits until the receiver has them all. */
    private static void sendBatch(Sluice sluice, CountingReceiver receiver, int n) {
        StringBuilder body = new StringBuilder("{\"batch\":[");
        for (int i = 0; i < EVENTS_PER_BATCH; i++) {
            if (i > 0) body.append(',');
            body.append("{\"type\":\"track\",\"event\":\"Step\",\"userId\":\"user-")
                    .append(i)
                    .append("\",\"messageId\":\"m-")
                    .append(n)
                    .append('-')
                    .append(i)
                    .append("\"}");
        }
        var response = post(
                sluice.collectorUrl() + "/v1/batch", body.append("]}").toString(), "Authorization", basic("wk_xacts"));
        assertThat(response.statusCode()).isEqualTo(200);
        int expected = (n + 1) * EVENTS_PER_BATCH;
        await().atMost(Duration.ofSeconds(60)).until(() -> receiver.accepted().size() >= expected);
    }

    private static long transactions(String url) throws Exception {
        return scalar(
                url, "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()");
    }

    private static long doneBatches(String url) throws Exception {
        return scalar(url, "SELECT count(*) FROM batches WHERE status = 'done'");
    }

    /** On a connection of its own, outside the pool whose transactions are counted (its one is counted too: 1). */
    private static long scalar(String url, String sql) throws Exception {
        try (var c = DriverManager.getConnection(url, TestPostgres.USER, "");
                var rs = c.createStatement().executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
