package io.sluice.it.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.bench.chaos.ChaosLoad;
import io.sluice.config.ConfigLoader;
import io.sluice.runtime.Sluice;
import io.sluice.support.BrokerCluster;
import io.sluice.support.ReadyProbe;
import io.sluice.support.TcpProxy;
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
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Scenario 5 (collector side) of docs/reliability.md: the collector reaches its broker only through a proxy (the
 * broker advertises the proxy's port), and the proxy black-holes every connection: bytes are swallowed, no socket
 * is closed. Detection is bounded by the ack timeout, nothing is acknowledged that is not stored, /ready follows,
 * and the collector recovers by itself when the route returns.
 */
class CollectorPartitionChaosIT {
    @TempDir
    Path dir;

    @Test
    void aSilentRouteToKafkaIs503sWithinTheAckTimeoutAndHealsByItself() throws Exception {
        String id = UUID.randomUUID().toString().substring(0, 8);
        String topic = "silent-" + id;
        ChaosReport report = new ChaosReport("collector-partition");
        try (TcpProxy proxy = new TcpProxy(1);
                BrokerCluster cluster = BrokerCluster.start(dir.resolve("kafka"), 1, p -> {
                    String listeners = p.getProperty("listeners");
                    int brokerPort =
                            Integer.parseInt(listeners.replaceAll(".*PLAINTEXT://127\\.0\\.0\\.1:(\\d+).*", "$1"));
                    proxy.switchTo(brokerPort);
                    p.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + proxy.port());
                    return p;
                });
                Sluice collector = collector("127.0.0.1:" + proxy.port(), topic)) {
            try (ChaosLoad load = new ChaosLoad(
                                    n -> collector.collectorUrl(), "wk_silent", "s" + id, 2, 50, Duration.ofMillis(50))
                            .start();
                    ReadyProbe ready = new ReadyProbe(collector.adminUrl(), Duration.ofMillis(250))) {
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> load.acknowledged().size() >= 1000);
                long holedAt = System.nanoTime();
                proxy.blackHole();
                WallClock.waitOut(
                        Duration.ofSeconds(15), "the collector's route to Kafka stays a black hole this long");
                long restoredAt = System.nanoTime();
                proxy.restore();
                await().atMost(Duration.ofSeconds(120))
                        .pollInterval(Duration.ofMillis(200))
                        .until(() -> load.attempts().stream()
                                .anyMatch(a -> a.startNanos() > restoredAt && a.status() == 200));
                long recoveredMs = (load.attempts().stream()
                                        .filter(a -> a.startNanos() > restoredAt && a.status() == 200)
                                        .mapToLong(ChaosLoad.Attempt::endNanos)
                                        .min()
                                        .orElseThrow()
                                - holedAt
                                - (restoredAt - holedAt))
                        / 1_000_000;
                WallClock.waitOut(Duration.ofSeconds(2), "the load goes on a while after the route is back");
                load.stop();

                // Requests that started while the route was silent; a 200 for one is only possible once it came back.
                List<ChaosLoad.Attempt> silent = load.attempts().stream()
                        .filter(a -> a.startNanos()
                                        >= holedAt + Duration.ofMillis(100).toNanos()
                                && a.startNanos() < restoredAt)
                        .toList();
                long slowest = silent.stream()
                        .mapToLong(a -> (a.endNanos() - a.startNanos()) / 1_000_000)
                        .max()
                        .orElse(0);
                var readyWhileSilent =
                        ready.between(holedAt + Duration.ofSeconds(5).toNanos(), restoredAt);
                ReadyProbe.Answer first503 = ready.first(503, holedAt);
                report.line(
                        "route black-holed for 15 s: %d requests started, statuses %s, slowest answer %d ms; /ready 503 after %s ms, "
                                + "then %d of %d probes 503",
                        silent.size(),
                        silent.stream()
                                .collect(Collectors.groupingBy(ChaosLoad.Attempt::status, Collectors.counting())),
                        slowest,
                        first503 == null ? "never" : String.valueOf((first503.nanos() - holedAt) / 1_000_000),
                        readyWhileSilent.stream().filter(a -> a.status() == 503).count(),
                        readyWhileSilent.size());
                report.line("route restored: first 200 %d ms later, no restart", recoveredMs);
                assertThat(silent).as("requests while silent").isNotEmpty();
                assertThat(silent.stream().filter(a -> a.status() == 200))
                        .as("a 200 only once the route was back")
                        .allMatch(a -> a.endNanos() > restoredAt);
                assertThat(silent.stream().filter(a -> a.endNanos() < restoredAt))
                        .as("bounded detection: answered within the ack timeout")
                        .allMatch(a -> a.endNanos() - a.startNanos()
                                < Duration.ofSeconds(8).toNanos());
                assertThat(readyWhileSilent)
                        .as("/ready while silent")
                        .isNotEmpty()
                        .allMatch(a -> a.status() != 200);

                Set<String> acked = load.acknowledged();
                Map<String, Integer> inKafka =
                        ChaosChecks.messageIdCounts(cluster.bootstrapServers(), topic, acked.size());
                Set<String> lost = new HashSet<>(acked);
                lost.removeAll(inKafka.keySet());
                report.line(
                        "acknowledged %d, lost %d, stored twice %d",
                        acked.size(),
                        lost.size(),
                        inKafka.values().stream().filter(n -> n > 1).count());
                assertThat(lost).as("acknowledged but not in Kafka").isEmpty();
            } finally {
                report.write();
            }
        }
    }

    private static Sluice collector(String bootstrap, String topic) throws Exception {
        String yaml = """
                kafka: {bootstrapServers: "%s", eventsTopic: %s, partitions: 2, replicationFactor: 1, minInsyncReplicas: 1}
                collector: {host: 127.0.0.1, port: 0, ackTimeout: 3s}
                admin: {host: 127.0.0.1, port: 0}
                sources: [{id: web, writeKey: wk_silent}]
                """.formatted(bootstrap, topic);
        Sluice sluice = new Sluice(
                new ConfigLoader(Map.of()).loadYaml(yaml), EnumSet.of(Sluice.Role.COLLECTOR), false, Clock.systemUTC());
        sluice.start();
        return sluice;
    }
}
