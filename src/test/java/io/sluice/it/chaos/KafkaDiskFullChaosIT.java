package io.sluice.it.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.bench.chaos.ChaosLoad;
import io.sluice.config.ConfigLoader;
import io.sluice.runtime.Sluice;
import io.sluice.support.BrokerCluster;
import io.sluice.support.ReadyProbe;
import io.sluice.support.SmallDisk;
import io.sluice.support.WallClock;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Scenario 4 (Kafka) of docs/reliability.md: the broker's log directory is a 64 MB tmpfs; under load the test fills
 * it. Kafka takes the failed log directory offline and, as it was its only one, the broker stops; the test plays
 * the broker's supervisor (systemd's Restart=always) and keeps restarting it, which fails while the disk is full.
 * The collector answers 503 with Retry-After meanwhile and never 200 for an event Kafka does not hold; once space is
 * freed the broker stays up and ingestion resumes without touching the Sluice process.
 */
class KafkaDiskFullChaosIT {
    @TempDir
    Path dir;

    @Test
    void aFullKafkaDiskIs503sNever200sAndIngestionResumesWhenSpaceReturns() throws Exception {
        String[] why = new String[1];
        SmallDisk disk = SmallDisk.mount(dir.resolve("kafka-disk"), 64, why);
        Assumptions.assumeTrue(disk != null, () -> "needs a small tmpfs: " + why[0]);
        String id = UUID.randomUUID().toString().substring(0, 8);
        String topic = "full-" + id;
        ChaosReport report = new ChaosReport("kafka-disk-full");
        AtomicBoolean supervise = new AtomicBoolean(true);
        AtomicInteger restarts = new AtomicInteger();
        try (disk;
                BrokerCluster cluster = BrokerCluster.start(dir.resolve("kafka"), 1, p -> {
                    p.put("log.dirs", disk.path().resolve("logs").toString());
                    p.put("log.segment.bytes", String.valueOf(4 << 20));
                    p.put("log.index.size.max.bytes", String.valueOf(256 << 10));
                    return p;
                });
                Sluice collector = collector(cluster, topic)) {
            Thread supervisor = Thread.ofVirtual().start(() -> {
                while (supervise.get()) {
                    if (!cluster.alive(1)) {
                        restarts.incrementAndGet();
                        cluster.restart(1);
                    }
                    sleep(1000);
                }
            });
            try (ChaosLoad load = new ChaosLoad(
                                    n -> collector.collectorUrl(), "wk_full", "f" + id, 2, 50, Duration.ofMillis(50))
                            .start();
                    ReadyProbe ready = new ReadyProbe(collector.adminUrl(), Duration.ofMillis(250))) {
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> load.acknowledged().size() >= 1000);
                long filledAt = System.nanoTime();
                long filler = disk.fill();
                long leftAfterFill = disk.usableBytes();
                await().atMost(Duration.ofSeconds(60))
                        .until(() ->
                                load.attempts().stream().anyMatch(a -> a.startNanos() > filledAt && a.status() != 200));
                long firstRefusal = load.attempts().stream()
                        .filter(a -> a.startNanos() > filledAt && a.status() != 200)
                        .mapToLong(ChaosLoad.Attempt::endNanos)
                        .min()
                        .orElseThrow();
                WallClock.waitOut(Duration.ofSeconds(10), "the broker's disk stays full this long under load");
                long freedAt = System.nanoTime();
                long readyAnswersWhileFull =
                        ready.between(firstRefusal, freedAt).size();
                long ready503WhileFull = ready.between(firstRefusal, freedAt).stream()
                        .filter(a -> a.status() == 503)
                        .count();
                var readyLateWhileFull =
                        ready.between(firstRefusal + Duration.ofSeconds(3).toNanos(), freedAt);
                disk.free();
                await().atMost(Duration.ofSeconds(90))
                        .pollInterval(Duration.ofMillis(200))
                        .until(() ->
                                load.attempts().stream().anyMatch(a -> a.startNanos() > freedAt && a.status() == 200));
                long recoveredMs = (load.attempts().stream()
                                        .filter(a -> a.startNanos() > freedAt && a.status() == 200)
                                        .mapToLong(ChaosLoad.Attempt::endNanos)
                                        .min()
                                        .orElseThrow()
                                - freedAt)
                        / 1_000_000;
                report.line(
                        "space freed: first 200 after %d ms (supervisor's restart and broker start included), broker restarts in total %d",
                        recoveredMs, restarts.get());
                // by start time: an attempt that started while the disk was full counts, however long it took
                var whileFull = load.attempts().stream()
                        .filter(a -> a.startNanos() >= firstRefusal && a.startNanos() < freedAt)
                        .toList();
                report.line(
                        "statuses while full: %s; longest attempt %d ms",
                        whileFull.stream()
                                .collect(Collectors.groupingBy(ChaosLoad.Attempt::status, Collectors.counting())),
                        whileFull.stream()
                                .mapToLong(a -> (a.endNanos() - a.startNanos()) / 1_000_000)
                                .max()
                                .orElse(0));
                report.line(
                        "disk filled (%d MB filler, %d bytes left): first refusal after %d ms; while full %d attempts, %d answered 200, "
                                + "%d 503 (all with Retry-After: %s), broker restarts by the supervisor %d; /ready 503 answers %d of %d",
                        filler >> 20,
                        leftAfterFill,
                        (firstRefusal - filledAt) / 1_000_000,
                        whileFull.size(),
                        whileFull.stream().filter(a -> a.status() == 200).count(),
                        whileFull.stream().filter(a -> a.status() == 503).count(),
                        whileFull.stream().filter(a -> a.status() == 503).allMatch(a -> a.retryAfter() != null),
                        restarts.get(),
                        ready503WhileFull,
                        readyAnswersWhileFull);
                assertThat(whileFull.stream().filter(a -> a.status() == 503))
                        .as("503s while the disk is full")
                        .isNotEmpty()
                        .allMatch(a -> a.retryAfter() != null);
                assertThat(whileFull.stream().filter(a -> a.status() == 200))
                        .as("a 200 only once the disk had space again")
                        .allMatch(a -> a.endNanos() > freedAt);
                assertThat(readyLateWhileFull)
                        .as("/ready while the disk is full")
                        .isNotEmpty()
                        .allMatch(a -> a.status() != 200);

                WallClock.waitOut(Duration.ofSeconds(3), "the load goes on a while after space is freed");
                load.stop();
                supervise.set(false);
                supervisor.join();

                Set<String> acked = load.acknowledged();
                Map<String, Integer> inKafka =
                        ChaosChecks.messageIdCounts(cluster.bootstrapServers(), topic, acked.size());
                Set<String> lost = new HashSet<>(acked);
                lost.removeAll(inKafka.keySet());
                report.line(
                        "acknowledged %d, lost %d, stored twice %d (refused batches that the retry sent again), never acknowledged %d",
                        acked.size(),
                        lost.size(),
                        inKafka.values().stream().filter(n -> n > 1).count(),
                        load.neverAcknowledged().size());
                assertThat(lost)
                        .as("acknowledged but not in Kafka after the disk was full")
                        .isEmpty();
                String brokerLog = cluster.log(1);
                report.line(
                        "broker log names the disk: %s",
                        brokerLog
                                .lines()
                                .filter(l -> l.contains("No space left") || l.contains("log dirs"))
                                .findFirst()
                                .map(String::strip)
                                .map(l -> l.length() > 200 ? l.substring(0, 200) : l)
                                .orElse("(no line found)"));
            } finally {
                supervise.set(false);
                report.write();
            }
        }
    }

    private static Sluice collector(BrokerCluster cluster, String topic) throws Exception {
        String yaml = """
                kafka: {bootstrapServers: "%s", eventsTopic: %s, partitions: 2, replicationFactor: 1, minInsyncReplicas: 1}
                collector: {host: 127.0.0.1, port: 0, ackTimeout: 3s}
                admin: {host: 127.0.0.1, port: 0}
                sources: [{id: web, writeKey: wk_full}]
                """.formatted(cluster.bootstrapServers(), topic);
        Sluice sluice = new Sluice(
                new ConfigLoader(Map.of()).loadYaml(yaml), EnumSet.of(Sluice.Role.COLLECTOR), false, Clock.systemUTC());
        sluice.start();
        return sluice;
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis); // wall clock: the supervisor looks once a second
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
