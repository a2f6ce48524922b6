package io.sluice.it.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.bench.chaos.ChaosLoad;
import io.sluice.bench.chaos.CountingWebhook;
import io.sluice.config.ConfigLoader;
import io.sluice.embedded.FreePort;
import io.sluice.runtime.Sluice;
import io.sluice.support.BrokerCluster;
import io.sluice.support.TcpProxy;
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
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Scenario 5 (worker side) of docs/reliability.md. The broker has two listeners: one the collector and planner use
 * directly, and one advertised at a proxy's port, the only way the worker reaches Kafka (its reads of claimed ranges,
 * its Kafka mirror destination, its control channel). The proxy black-holes every connection for longer than the
 * worker's read timeout: bytes are swallowed, no socket is closed. Expected: ingestion and planning go on; the
 * worker gives up the silent sockets and fails the batches it cannot read within a bounded time (they are retried,
 * not lost); once the proxy forwards again everything acknowledged reaches the webhook and the mirror without a
 * restart, and what reached them twice is counted there (neither dedupes).
 */
class WorkerPartitionChaosIT {
    private static final Duration HOLE = Duration.ofSeconds(25);

    @TempDir
    Path dir;

    @Test
    void aWorkerCutOffFromKafkaWithoutClosedSocketsFailsItsReadsInBoundedTimeAndCatchesUpByItself() throws Exception {
        String id = UUID.randomUUID().toString().substring(0, 8);
        String topic = "wsilent-" + id;
        String mirror = "wsilent-mirror-" + id;
        String queueUrl = TestPostgres.createDatabase("wsilent_q");
        int proxiedListener = FreePort.find();
        ChaosReport report = new ChaosReport("worker-partition");
        try (TcpProxy proxy = new TcpProxy(proxiedListener);
                BrokerCluster cluster = BrokerCluster.start(dir.resolve("kafka"), 1, p -> {
                    // Clients get the metadata of the listener they connected on: through the proxy, the proxy's port.
                    p.put("listeners", p.getProperty("listeners") + ",PROXIED://127.0.0.1:" + proxiedListener);
                    p.put(
                            "advertised.listeners",
                            p.getProperty("advertised.listeners") + ",PROXIED://127.0.0.1:" + proxy.port());
                    p.put(
                            "listener.security.protocol.map",
                            p.getProperty("listener.security.protocol.map") + ",PROXIED:PLAINTEXT");
                    return p;
                });
                CountingWebhook hook = new CountingWebhook()) {
            try (var admin = cluster.admin()) {
                admin.createTopics(List.of(new NewTopic(mirror, 2, (short) 1)))
                        .all()
                        .get(30, TimeUnit.SECONDS);
            }
            String viaProxy = "127.0.0.1:" + proxy.port();
            String direct = cluster.bootstrapServers();
            try (Sluice front = sluice(
                            direct,
                            viaProxy,
                            topic,
                            mirror,
                            id,
                            queueUrl,
                            hook,
                            Sluice.Role.COLLECTOR,
                            Sluice.Role.PLANNER);
                    Sluice worker = sluice(viaProxy, viaProxy, topic, mirror, id, queueUrl, hook, Sluice.Role.WORKER);
                    WarnLog warnings = WarnLog.open("io.sluice.worker");
                    ChaosLoad load = new ChaosLoad(
                                    n -> front.collectorUrl(), "wk_wsilent", "w" + id, 2, 20, Duration.ofMillis(200))
                            .start()) {
                await().atMost(Duration.ofSeconds(60)).until(() -> hook.counts().size() >= 300);
                int openBefore = proxy.openConnections();
                long holedAt = System.nanoTime();
                proxy.blackHole();
                WallClock.waitOut(HOLE, "the route stays a TCP black hole this long under load");
                // Sockets that were open when the route went silent and that no client has given up yet: idle ones
                // (a client notices a silent socket only through a request on it that times out).
                int stillHeld = proxy.openSinceBlackHole();
                Set<String> hookedWhileHoled = hook.counts().keySet();
                long restoredAt = System.nanoTime();
                proxy.restore();
                Set<String> ackedDuringHole =
                        idsAckedBetween(load, holedAt + Duration.ofSeconds(1).toNanos(), restoredAt);
                List<WarnLog.Line> readFailures = warnings.since(holedAt).stream()
                        .filter(l -> l.text().contains("could not read offsets"))
                        .toList();
                long firstReadFailureMs = readFailures.stream()
                        .mapToLong(l -> (l.nanos() - holedAt) / 1_000_000)
                        .min()
                        .orElse(-1);
                List<ChaosLoad.Attempt> duringHole = load.within(holedAt, restoredAt);
                report.line(
                        "worker's route to Kafka black-holed for %d s (%d connections open through the proxy): %d of them still "
                                + "open at the end (idle); first batch failed by the read timeout after %d ms, %d batch failures "
                                + "(retriable, retried) logged",
                        HOLE.toSeconds(), openBefore, stillHeld, firstReadFailureMs, readFailures.size());
                report.line(
                        "collector meanwhile (direct route): %d requests, %d answered 200; events acknowledged during the hole %d, "
                                + "of them at the webhook before the route returned %d",
                        duringHole.size(),
                        duringHole.stream().filter(a -> a.status() == 200).count(),
                        ackedDuringHole.size(),
                        ackedDuringHole.stream()
                                .filter(hookedWhileHoled::contains)
                                .count());
                assertThat(duringHole)
                        .as("ingestion is not on the cut route")
                        .isNotEmpty()
                        .allMatch(a -> a.status() == 200);
                assertThat(ackedDuringHole).as("acknowledged during the hole").isNotEmpty();
                assertThat(ackedDuringHole)
                        .as("the worker could not read them while cut off: the partition is real")
                        .noneMatch(hookedWhileHoled::contains);
                assertThat(readFailures)
                        .as("a batch the worker cannot read fails within the read timeout and is retried")
                        .isNotEmpty();
                assertThat(firstReadFailureMs)
                        .as("detection is bounded by the read timeout (15 s) plus the claim")
                        .isBetween(0L, 20_000L);
                await().atMost(Duration.ofSeconds(180))
                        .pollInterval(Duration.ofMillis(250))
                        .until(() -> hook.counts().keySet().containsAll(ackedDuringHole));
                long hookCaughtUpMs = (System.nanoTime() - restoredAt) / 1_000_000;
                await().atMost(Duration.ofSeconds(180))
                        .pollInterval(Duration.ofSeconds(1))
                        .until(() -> ChaosChecks.messageIds(direct, mirror, 1).containsAll(ackedDuringHole));
                long mirrorCaughtUpMs = (System.nanoTime() - restoredAt) / 1_000_000;
                report.line(
                        "route restored: the hole's events at the webhook %d ms later, in the Kafka mirror %d ms later; no restart",
                        hookCaughtUpMs, mirrorCaughtUpMs);
                WallClock.waitOut(Duration.ofSeconds(2), "the load goes on a while after the route is back");
                load.stop();

                Set<String> acked = load.acknowledged();
                Map<String, Integer> inKafka = ChaosChecks.messageIdCounts(direct, topic, acked.size());
                Set<String> lost = new HashSet<>(acked);
                lost.removeAll(inKafka.keySet());
                assertThat(lost).as("acknowledged but not in Kafka").isEmpty();
                try {
                    await().atMost(Duration.ofSeconds(180))
                            .pollInterval(Duration.ofSeconds(1))
                            .until(() -> hook.counts().keySet().containsAll(acked)
                                    && ChaosChecks.messageIds(direct, mirror, acked.size())
                                            .containsAll(acked));
                } catch (org.awaitility.core.ConditionTimeoutException e) {
                    ChaosChecks.dumpThreads("worker-partition");
                    throw e;
                }
                WallClock.waitOut(Duration.ofSeconds(1), "a late duplicate delivery would land now");
                Map<String, Integer> hooked = hook.counts();
                Map<String, Integer> mirrored = ChaosChecks.messageIdCounts(direct, mirror, acked.size());
                report.line(
                        "acknowledged %d; acked - delivered: webhook 0, Kafka mirror 0 (asserted); delivered twice: webhook %d, "
                                + "Kafka mirror %d",
                        acked.size(),
                        hooked.values().stream().filter(n -> n > 1).count(),
                        mirrored.values().stream().filter(n -> n > 1).count());
            } finally {
                report.write();
            }
        }
    }

    private static Set<String> idsAckedBetween(ChaosLoad load, long from, long to) {
        Set<String> ids = new HashSet<>();
        for (ChaosLoad.Attempt a : load.within(from, to)) if (a.status() == 200) ids.addAll(a.ids());
        return ids;
    }

    private static Sluice sluice(
            String bootstrap,
            String mirrorBootstrap,
            String topic,
            String mirror,
            String id,
            String queueUrl,
            CountingWebhook hook,
            Sluice.Role... roles)
            throws Exception {
        String yaml = """
                kafka: {bootstrapServers: "%s", eventsTopic: %s, partitions: 4, controlTopic: wsilent-control-%s,
                        violationsTopic: wsilent-violations-%s, replicationFactor: 1, minInsyncReplicas: 1}
                postgres: {url: "%s", user: sluice}
                collector: {host: 127.0.0.1, port: 0, ackTimeout: 5s}
                admin: {host: 127.0.0.1, port: 0}
                sources: [{id: web, writeKey: wk_wsilent}]
                destinations:
                  - {id: hook, type: webhook, url: "%s", timeout: 3s}
                  - {id: mirror, type: kafka, bootstrapServers: "%s", topic: %s,
                     producer: {request.timeout.ms: 8000, delivery.timeout.ms: 20000}}
                syncs:
                  - {id: to-hook, source: web, destination: hook, batch: {maxEvents: 100, maxAge: 200ms}}
                  - {id: to-mirror, source: web, destination: mirror, batch: {maxEvents: 200, maxAge: 200ms}}
                planner: {groupId: wsilent-%s}
                worker: {concurrency: 2, pollInterval: 50ms, leaseDuration: 5s, heartbeatInterval: 1s}
                """.formatted(bootstrap, topic, id, id, queueUrl, hook.url(), mirrorBootstrap, mirror, id);
        Sluice sluice = new Sluice(
                new ConfigLoader(Map.of()).loadYaml(yaml), EnumSet.copyOf(List.of(roles)), false, Clock.systemUTC());
        sluice.start();
        return sluice;
    }
}
