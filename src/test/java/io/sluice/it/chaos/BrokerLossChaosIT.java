package io.sluice.it.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.bench.chaos.ChaosLoad;
import io.sluice.config.ConfigLoader;
import io.sluice.runtime.Sluice;
import io.sluice.support.BrokerCluster;
import io.sluice.support.ReadyProbe;
import io.sluice.support.TestPostgres;
import io.sluice.support.WallClock;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Scenario 2 of docs/reliability.md: a 3-node KRaft cluster of separate broker processes, events topic created by
 * Sluice with replication factor 3 and min.insync.replicas 2, one Sluice process (collector, planner, worker)
 * under continuous SDK-like load. The leader of the most partitions is SIGKILLed and later restarted; then two
 * brokers are killed at once and restarted. Nothing acknowledged is lost, nothing is acknowledged while it cannot
 * be stored, /ready follows writability, and Sluice recovers without a restart.
 */
class BrokerLossChaosIT {
    @TempDir
    Path dir;

    @Test
    void aLostBrokerCostsAtMostTheElectionWindowAndTwoLostBrokersAre503sUntilTheyReturn() throws Exception {
        String id = UUID.randomUUID().toString().substring(0, 8);
        String topic = "chaos-events-" + id;
        String warehouseUrl = TestPostgres.createDatabase("chaos_wh");
        try (BrokerCluster cluster = BrokerCluster.start(dir.resolve("kafka"), 3);
                Sluice sluice = sluice(cluster, topic, warehouseUrl, id)) {
            var description = cluster.describe(topic);
            assertThat(description.partitions())
                    .allSatisfy(p -> assertThat(p.replicas()).hasSize(3));

            ChaosReport report = new ChaosReport("broker-loss");
            try (ChaosLoad load = new ChaosLoad(
                                    n -> sluice.collectorUrl(), "wk_chaos", "b" + id, 4, 50, Duration.ofMillis(50))
                            .start();
                    ReadyProbe ready = new ReadyProbe(sluice.adminUrl(), Duration.ofMillis(250))) {
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> load.acknowledged().size() >= 1000);

                // One broker: SIGKILL the node leading the most partitions (it may also be the quorum leader).
                int victim = cluster.busiestLeader(topic);
                long leadersLost = cluster.leaders(topic).get(victim);
                long killedAt = System.nanoTime();
                cluster.kill(victim);
                WallClock.waitOut(Duration.ofSeconds(12), "one broker stays down this long under load");
                long oneDownUntil = System.nanoTime();
                List<ChaosLoad.Attempt> oneDown = load.within(killedAt, oneDownUntil);
                List<ChaosLoad.Attempt> refused =
                        oneDown.stream().filter(a -> a.status() != 200).toList();
                long lastRefusalMs = refused.stream()
                        .mapToLong(a -> (a.endNanos() - killedAt) / 1_000_000)
                        .max()
                        .orElse(0);
                long slowest = oneDown.stream()
                        .mapToLong(a -> (a.endNanos() - a.startNanos()) / 1_000_000)
                        .max()
                        .orElse(0);
                report.line(
                        "one broker SIGKILLed (node %d, leader of %d/8 partitions): %d attempts, %d refused, last refusal %d ms after the kill, "
                                + "slowest answer %d ms",
                        victim, leadersLost, oneDown.size(), refused.size(), lastRefusalMs, slowest);
                assertThat(oneDown.stream().filter(a -> a.status() == 200).count())
                        .as("acknowledged with one broker down")
                        .isPositive();
                assertThat(load.within(killedAt + Duration.ofSeconds(8).toNanos(), oneDownUntil))
                        .as("after the election window every request is acknowledged")
                        .allMatch(a -> a.status() == 200);

                cluster.restart(victim);
                long restartedAt = System.nanoTime();
                await().atMost(Duration.ofSeconds(90))
                        .pollInterval(Duration.ofMillis(250))
                        .until(() -> cluster.fullyInSync(topic));
                report.line(
                        "node %d restarted: back in every ISR after %d ms; refusals meanwhile: %d",
                        victim,
                        (System.nanoTime() - restartedAt) / 1_000_000,
                        load.within(restartedAt, System.nanoTime()).stream()
                                .filter(a -> a.status() != 200)
                                .count());

                // Two brokers at once: no write can reach min.insync.replicas=2.
                int survivor = victim; // the freshly restarted one stays, the other two die
                List<Integer> doomed = IntStream.rangeClosed(1, 3)
                        .filter(n -> n != survivor)
                        .boxed()
                        .toList();
                long twoDownAt = System.nanoTime();
                for (int n : doomed) cluster.kill(n);
                await().atMost(Duration.ofSeconds(10)).until(() -> ready.first(503, twoDownAt) != null);
                long readyDetectMs = (ready.first(503, twoDownAt).nanos() - twoDownAt) / 1_000_000;
                WallClock.waitOut(Duration.ofSeconds(10), "two brokers stay down this long under load");
                long twoDownUntil = System.nanoTime();
                // A request sent a moment before the kill may still have been acknowledged by all three.
                List<ChaosLoad.Attempt> twoDown =
                        load.within(twoDownAt + Duration.ofMillis(200).toNanos(), twoDownUntil);
                report.line(
                        "two brokers SIGKILLed (nodes %s): %d attempts, %d answered 200; /ready 503 after %d ms",
                        doomed,
                        twoDown.size(),
                        twoDown.stream().filter(a -> a.status() == 200).count(),
                        readyDetectMs);
                assertThat(twoDown)
                        .as("attempts while two of three brokers are down")
                        .isNotEmpty();
                assertThat(twoDown).as("never 200 while no write can be stored").noneMatch(a -> a.status() == 200);
                assertThat(twoDown.stream().filter(a -> a.status() == 503))
                        .as("503 carries Retry-After")
                        .allMatch(a -> a.retryAfter() != null);
                assertThat(ready.between(
                                twoDownAt
                                        + Duration.ofSeconds(readyDetectMs / 1000 + 2)
                                                .toNanos(),
                                twoDownUntil))
                        .as("/ready while two brokers are down")
                        .isNotEmpty()
                        .allMatch(a -> a.status() == 503);

                long backAt = System.nanoTime();
                for (int n : doomed) cluster.restart(n);
                await().atMost(Duration.ofSeconds(120))
                        .pollInterval(Duration.ofMillis(200))
                        .until(() ->
                                load.attempts().stream().anyMatch(a -> a.startNanos() > backAt && a.status() == 200));
                long firstAckMs = (load.attempts().stream()
                                        .filter(a -> a.startNanos() > backAt && a.status() == 200)
                                        .mapToLong(ChaosLoad.Attempt::endNanos)
                                        .min()
                                        .orElseThrow()
                                - backAt)
                        / 1_000_000;
                await().atMost(Duration.ofSeconds(60)).until(() -> ready.first(200, backAt) != null);
                long readyMs = (ready.first(200, backAt).nanos() - backAt) / 1_000_000;
                report.line(
                        "two brokers restarted: first 200 after %d ms, /ready 200 after %d ms (broker JVM start included)",
                        firstAckMs, readyMs);
                WallClock.waitOut(Duration.ofSeconds(3), "the load goes on a while after recovery");
                load.stop();

                Set<String> acked = load.acknowledged();
                Set<String> inKafka = ChaosChecks.messageIds(cluster.bootstrapServers(), topic, acked.size());
                Set<String> lost = new HashSet<>(acked);
                lost.removeAll(inKafka);
                report.line(
                        "acknowledged %d events, lost in Kafka %d; SDK retries answered 200 after a refusal: %d",
                        acked.size(), lost.size(), load.retriedThenAcknowledged());
                assertThat(lost).as("acknowledged but not in Kafka").isEmpty();
                Set<String> unacked = new HashSet<>(load.neverAcknowledged());
                unacked.retainAll(inKafka);
                report.line(
                        "batches never acknowledged (load stopped mid-retry): %d ids, of them in Kafka: %d",
                        load.neverAcknowledged().size(), unacked.size());

                await().atMost(Duration.ofSeconds(120))
                        .pollInterval(Duration.ofSeconds(1))
                        .until(() -> ChaosChecks.warehouseIds(warehouseUrl).containsAll(acked));
                report.line("warehouse: every acknowledged event delivered (acked - delivered = 0), no Sluice restart");
            } finally {
                report.write();
            }
        }
    }

    private static Sluice sluice(BrokerCluster cluster, String topic, String warehouseUrl, String id) throws Exception {
        String queueUrl = TestPostgres.createDatabase("chaos_q");
        String yaml = """
                kafka: {bootstrapServers: "%s", eventsTopic: %s, partitions: 8, controlTopic: chaos-control-%s,
                        violationsTopic: chaos-violations-%s, replicationFactor: 3, minInsyncReplicas: 2}
                postgres: {url: "%s", user: sluice}
                collector: {host: 127.0.0.1, port: 0, ackTimeout: 5s}
                admin: {host: 127.0.0.1, port: 0}
                sources: [{id: web, writeKey: wk_chaos}]
                destinations: [{id: warehouse, type: postgres, url: "%s", user: sluice}]
                syncs: [{id: web-to-warehouse, source: web, destination: warehouse, batch: {maxEvents: 500, maxAge: 200ms}}]
                planner: {groupId: chaos-%s}
                worker: {concurrency: 2, pollInterval: 50ms, leaseDuration: 5s, heartbeatInterval: 1s}
                """.formatted(cluster.bootstrapServers(), topic, id, id, queueUrl, warehouseUrl, id);
        Sluice sluice = new Sluice(
                new ConfigLoader(Map.of()).loadYaml(yaml),
                EnumSet.of(Sluice.Role.COLLECTOR, Sluice.Role.PLANNER, Sluice.Role.WORKER),
                false,
                Clock.systemUTC());
        sluice.start();
        return sluice;
    }
}
