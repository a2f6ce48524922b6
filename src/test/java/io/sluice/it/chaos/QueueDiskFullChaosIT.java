package io.sluice.it.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.bench.chaos.ChaosLoad;
import io.sluice.bench.chaos.CountingWebhook;
import io.sluice.embedded.EmbeddedPostgres;
import io.sluice.embedded.FreePort;
import io.sluice.support.SluiceProcess;
import io.sluice.support.SmallDisk;
import io.sluice.support.TestKafka;
import io.sluice.support.TestPostgres;
import io.sluice.support.WallClock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
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
 * Scenario 4 (queue database) of docs/reliability.md: the queue database's data directory (WAL included) is on a
 * small tmpfs that the test fills under load. Collector, planner and worker are their own processes. Kafka is fine,
 * so the collector keeps answering 200; planner and worker cannot write the queue and retry without exiting; their
 * logs name the disk and say what to do. The test plays PostgreSQL's supervisor (restarts the server if it stops,
 * as systemd would). Once space is freed everything catches up: acked - delivered = 0 for the warehouse and the
 * webhook, with what the webhook got twice counted.
 */
class QueueDiskFullChaosIT {
    private static final Duration FULL = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    @Test
    void aFullQueueDiskHoldsTheWritePathAndEverythingCatchesUpWhenSpaceReturns() throws Exception {
        String[] why = new String[1];
        SmallDisk disk = SmallDisk.mount(dir.resolve("queue-disk"), 128, why);
        Assumptions.assumeTrue(disk != null, () -> "needs a small tmpfs: " + why[0]);
        String id = UUID.randomUUID().toString().substring(0, 8);
        String topic = "qfull-" + id;
        String warehouseUrl = TestPostgres.createDatabase("qfull_wh");
        ChaosReport report = new ChaosReport("queue-disk-full");
        AtomicBoolean supervise = new AtomicBoolean(true);
        AtomicInteger pgRestarts = new AtomicInteger();
        Map<String, SluiceProcess> processes = new LinkedHashMap<>();
        // Binaries and log stay on the big disk; only the data directory (with pg_wal) lives on the small one.
        Path pgRoot = dir.resolve("queue-pg");
        Path data = disk.path().resolve("pgdata");
        Files.createDirectories(data);
        Files.createDirectories(pgRoot);
        Files.createSymbolicLink(pgRoot.resolve("pgdata"), data);
        EmbeddedPostgres queue = new EmbeddedPostgres(pgRoot, 0, "sluice");
        Thread supervisor = null;
        try (disk;
                queue;
                CountingWebhook hook = new CountingWebhook()) {
            try {
                queue.start();
                supervisor = Thread.ofVirtual().start(() -> {
                    while (supervise.get()) {
                        if (!Files.exists(data.resolve("postmaster.pid"))) {
                            pgRestarts.incrementAndGet();
                            try {
                                queue.close();
                                queue.start();
                            } catch (RuntimeException e) {
                                // still full: the next round tries again
                            }
                        }
                        sleep(1000);
                    }
                });
                int port = FreePort.find();
                Path config = writeConfig(port, topic, id, queue.jdbcUrl("sluice"), warehouseUrl, hook);
                for (String role : List.of("collector", "planner", "worker"))
                    processes.put(role, SluiceProcess.start(role, config, dir, role));
                for (SluiceProcess p : processes.values()) p.awaitRunning(Duration.ofSeconds(90));
                try (ChaosLoad load = new ChaosLoad(
                                n -> "http://127.0.0.1:" + port, "wk_qfull", "q" + id, 2, 20, Duration.ofMillis(200))
                        .start()) {
                    await().atMost(Duration.ofSeconds(60))
                            .until(() -> ChaosChecks.warehouseIds(warehouseUrl).size() >= 300);
                    long filledAt = System.nanoTime();
                    long filler = disk.fill();
                    long left = disk.usableBytes();
                    WallClock.waitOut(FULL, "the queue database's disk stays full this long under load");
                    long freedAt = System.nanoTime();
                    Set<String> inWarehouseWhileFull = ChaosChecks.warehouseIds(warehouseUrl);
                    Set<String> hookedWhileFull = hook.counts().keySet();
                    Set<String> ackedWhileFull = new HashSet<>();
                    List<ChaosLoad.Attempt> whileFull = load.within(filledAt, freedAt);
                    for (ChaosLoad.Attempt a :
                            load.within(filledAt + Duration.ofSeconds(2).toNanos(), freedAt))
                        if (a.status() == 200) ackedWhileFull.addAll(a.ids());
                    Map<String, Long> alarms = new LinkedHashMap<>();
                    for (var e : processes.entrySet())
                        alarms.put(
                                e.getKey(),
                                e.getValue()
                                        .output()
                                        .lines()
                                        .filter(l -> l.contains("QUEUE DATABASE DISK FULL"))
                                        .count());
                    String sample = processes.values().stream()
                            .flatMap(p -> p.output().lines())
                            .filter(l -> l.contains("QUEUE DATABASE DISK FULL"))
                            .findFirst()
                            .map(l -> l.length() > 400 ? l.substring(0, 400) + "…" : l)
                            .orElse("(none)");
                    disk.free();
                    report.line(
                            "queue disk filled (%d MB filler, %d bytes left) for %d s: collector %d requests, statuses %s; "
                                    + "events acknowledged while full %d, of them delivered before space returned: warehouse %d, webhook %d",
                            filler >> 20,
                            left,
                            FULL.toSeconds(),
                            whileFull.size(),
                            whileFull.stream()
                                    .collect(Collectors.groupingBy(ChaosLoad.Attempt::status, Collectors.counting())),
                            ackedWhileFull.size(),
                            ackedWhileFull.stream()
                                    .filter(inWarehouseWhileFull::contains)
                                    .count(),
                            ackedWhileFull.stream()
                                    .filter(hookedWhileFull::contains)
                                    .count());
                    report.line(
                            "disk-full log lines per process %s; PostgreSQL restarted by the supervisor %d times; sample: %s",
                            alarms, pgRestarts.get(), sample);
                    assertThat(whileFull)
                            .as("collector requests while the queue disk is full")
                            .isNotEmpty();
                    assertThat(whileFull)
                            .as("Kafka is fine: every request acknowledged")
                            .allMatch(a -> a.status() == 200);
                    assertThat(alarms.get("planner") + alarms.get("worker"))
                            .as("planner or worker log names the full queue disk")
                            .isPositive();

                    await().atMost(Duration.ofSeconds(120))
                            .pollInterval(Duration.ofMillis(500))
                            .until(() -> ChaosChecks.warehouseIds(warehouseUrl).containsAll(ackedWhileFull)
                                    && hook.counts().keySet().containsAll(ackedWhileFull));
                    long caughtUpMs = (System.nanoTime() - freedAt) / 1_000_000;
                    report.line("space freed: everything acknowledged while full delivered %d ms later", caughtUpMs);
                    WallClock.waitOut(Duration.ofSeconds(2), "the load goes on a while after space is freed");
                    load.stop();

                    Set<String> acked = load.acknowledged();
                    Set<String> inKafka = ChaosChecks.messageIds(TestKafka.bootstrapServers(), topic, acked.size());
                    Set<String> lost = new HashSet<>(acked);
                    lost.removeAll(inKafka);
                    assertThat(lost).as("acknowledged but not in Kafka").isEmpty();
                    await().atMost(Duration.ofSeconds(120))
                            .pollInterval(Duration.ofSeconds(1))
                            .until(() -> ChaosChecks.warehouseIds(warehouseUrl).containsAll(acked)
                                    && hook.counts().keySet().containsAll(acked));
                    WallClock.waitOut(
                            Duration.ofSeconds(1),
                            "late duplicates reach the webhook count, and a dying process shows it");
                    for (var e : processes.entrySet())
                        assertThat(e.getValue().alive())
                                .as(e.getKey() + " never exited")
                                .isTrue();
                    report.line(
                            "acknowledged %d, lost 0; acked - delivered: warehouse 0, webhook 0 (asserted); delivered twice at the "
                                    + "webhook %d; no Sluice process exited or was restarted",
                            acked.size(),
                            hook.counts().values().stream().filter(n -> n > 1).count());
                } finally {
                    report.write();
                }
            } finally {
                // Sluice first, then the supervisor: the server is stopped (by the try's close) only once nobody
                // restarts it.
                for (SluiceProcess p : processes.values()) p.close();
                supervise.set(false);
                if (supervisor != null) supervisor.join();
            }
        }
    }

    private Path writeConfig(
            int port, String topic, String id, String queueUrl, String warehouseUrl, CountingWebhook hook)
            throws Exception {
        Path config = dir.resolve("qfull.yaml");
        Files.writeString(config, """
                kafka: {bootstrapServers: "%s", eventsTopic: %s, partitions: 4, controlTopic: qfull-control-%s, violationsTopic: qfull-violations-%s}
                postgres: {url: "%s", user: sluice}
                collector: {host: 127.0.0.1, port: %d, ackTimeout: 5s}
                admin: {host: 127.0.0.1, port: 0}
                sources: [{id: web, writeKey: wk_qfull}]
                destinations:
                  - {id: warehouse, type: postgres, url: "%s", user: sluice}
                  - {id: hook, type: webhook, url: "%s", timeout: 3s}
                syncs:
                  - {id: to-warehouse, source: web, destination: warehouse, batch: {maxEvents: 200, maxAge: 200ms}}
                  - {id: to-hook, source: web, destination: hook, batch: {maxEvents: 100, maxAge: 200ms}}
                planner: {groupId: qfull-%s}
                worker: {concurrency: 2, pollInterval: 50ms, leaseDuration: 5s, heartbeatInterval: 1s}
                """.formatted(
                        TestKafka.bootstrapServers(), topic, id, id, queueUrl, port, warehouseUrl, hook.url(), id));
        return config;
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis); // wall clock: the supervisor looks once a second
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
