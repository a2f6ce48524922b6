package io.sluice.it.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.embedded.FreePort;
import io.sluice.support.ChaosLoad;
import io.sluice.support.SluiceProcess;
import io.sluice.support.TestEvents;
import io.sluice.support.TestKafka;
import io.sluice.support.TestPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Scenarios 1 and 3 of docs/reliability.md: two collector processes side by side, a planner (with the violation
 * writer) and a worker, each its own JVM from target/sluice.jar, delivering to the warehouse, a webhook and a Kafka
 * mirror. Under SDK-like load (a refused batch is sent again with the same messageIds, to the other collector),
 * one role after the other is SIGKILLed at seeded random moments and restarted. Then: every acknowledged event is in
 * Kafka and delivered to all three destinations; what reached a destination twice is counted where nothing dedupes.
 */
class RoleKillChaosIT {
    static final long SEED = Long.getLong("chaos.seed", 14L);
    static final int ROUNDS = Integer.getInteger("chaos.rounds", 2);

    @TempDir
    Path dir;

    @Test
    void everyRoleKilledInTurnLosesNothingAndDuplicatesAreCounted() throws Exception {
        String id = UUID.randomUUID().toString().substring(0, 8);
        String topic = "roles-" + id;
        String mirror = TestEvents.createTopic("roles-mirror", 4);
        String warehouseUrl = TestPostgres.createDatabase("roles_wh");
        String queueUrl = TestPostgres.createDatabase("roles_q");
        ChaosReport report = new ChaosReport("role-kills");
        try (CountingReceiver hook = new CountingReceiver()) {
            int[] ports = {FreePort.find(), FreePort.find()};
            Map<String, Path> configs = new LinkedHashMap<>();
            for (int c = 0; c < 2; c++)
                configs.put(
                        "collector-" + c,
                        writeConfig("collector-" + c, ports[c], topic, mirror, id, queueUrl, warehouseUrl, hook));
            configs.put("planner", writeConfig("planner", 0, topic, mirror, id, queueUrl, warehouseUrl, hook));
            configs.put("worker", writeConfig("worker", 0, topic, mirror, id, queueUrl, warehouseUrl, hook));
            Map<String, SluiceProcess> running = new LinkedHashMap<>();
            Map<String, Integer> generation = new LinkedHashMap<>();
            try {
                for (String name : configs.keySet()) start(name, configs, running, generation);
                for (SluiceProcess p : running.values()) p.awaitRunning(Duration.ofSeconds(90));
                ChaosLoad load = new ChaosLoad(
                                n -> "http://127.0.0.1:" + ports[n % 2],
                                "wk_roles",
                                "r" + id,
                                4,
                                40,
                                Duration.ofMillis(100))
                        .start();
                await().atMost(Duration.ofSeconds(60))
                        .until(() -> load.acknowledged().size() >= 500);

                // Each role twice, in a seeded order; a role is killed only once it runs again (so a collector dies
                // while serving requests), at a seeded moment 1-4 s later. Its replacement starts at once.
                Random random = new Random(SEED);
                List<String> names = new ArrayList<>(configs.keySet());
                List<String> schedule = new ArrayList<>();
                for (int round = 0; round < ROUNDS; round++) {
                    Collections.shuffle(names, random);
                    schedule.addAll(names);
                }
                long chaosStarted = System.nanoTime();
                for (String victim : schedule) {
                    running.get(victim).awaitRunning(Duration.ofSeconds(120));
                    Thread.sleep(1000 + random.nextInt(3000));
                    running.get(victim).kill();
                    start(victim, configs, running, generation);
                }
                for (SluiceProcess p : running.values()) p.awaitRunning(Duration.ofSeconds(120));
                long chaosSeconds = (System.nanoTime() - chaosStarted) / 1_000_000_000;
                report.line("seed %d, %d s: SIGKILLed in turn %s", SEED, chaosSeconds, schedule);
                Thread.sleep(2000);
                load.stop();

                Set<String> acked = load.acknowledged();
                Map<String, Integer> inKafka =
                        ChaosChecks.messageIdCounts(TestKafka.bootstrapServers(), topic, acked.size());
                Set<String> lost = new HashSet<>(acked);
                lost.removeAll(inKafka.keySet());
                long refusedAttempts =
                        load.attempts().stream().filter(a -> a.status() != 200).count();
                long kafkaDuplicates =
                        inKafka.values().stream().filter(n -> n > 1).count();
                Set<String> neverAcked = load.neverAcknowledged();
                long neverAckedStored =
                        neverAcked.stream().filter(inKafka::containsKey).count();
                report.line(
                        "load: %d events acknowledged, %d attempts refused or cut (then retried with the same messageIds), %d retried batches acknowledged",
                        acked.size(), refusedAttempts, load.retriedThenAcknowledged());
                report.line(
                        "events topic: acknowledged but missing %d; messageIds stored more than once %d (a killed collector's partial or "
                                + "complete write of a batch the client then retried); never acknowledged ids %d, of them stored %d",
                        lost.size(), kafkaDuplicates, neverAcked.size(), neverAckedStored);
                assertThat(lost).as("acknowledged but not in Kafka").isEmpty();

                await().atMost(Duration.ofSeconds(180))
                        .pollInterval(Duration.ofSeconds(1))
                        .until(() -> ChaosChecks.warehouseIds(warehouseUrl).containsAll(acked)
                                && hook.counts().keySet().containsAll(acked)
                                && ChaosChecks.messageIds(TestKafka.bootstrapServers(), mirror, acked.size())
                                        .containsAll(acked));
                Thread.sleep(2000);
                Map<String, Integer> hooked = hook.counts();
                Map<String, Integer> mirrored =
                        ChaosChecks.messageIdCounts(TestKafka.bootstrapServers(), mirror, acked.size());
                long hookTwice = hooked.values().stream().filter(n -> n > 1).count();
                long mirrorTwice = mirrored.values().stream().filter(n -> n > 1).count();
                long hookTwiceKafka = hooked.entrySet().stream()
                        .filter(e -> e.getValue() > 1 && inKafka.getOrDefault(e.getKey(), 0) > 1)
                        .count();
                report.line("acked - delivered: warehouse 0, webhook 0, Kafka mirror 0 (asserted)");
                report.line(
                        "delivered twice: webhook %d messageIds (%d of them stored twice in the events topic), Kafka mirror %d; warehouse rows %d = distinct ids",
                        hookTwice, hookTwiceKafka, mirrorTwice, warehouseRows(warehouseUrl));
                try (Connection c = DriverManager.getConnection(warehouseUrl, "sluice", "");
                        var rs = c.createStatement()
                                .executeQuery("SELECT count(*) - count(DISTINCT id) FROM web.tracks")) {
                    rs.next();
                    assertThat(rs.getLong(1))
                            .as("the warehouse dedupes retried messageIds")
                            .isZero();
                }
            } finally {
                report.write();
                for (SluiceProcess p : running.values()) p.close();
            }
        }
    }

    private SluiceProcess start(
            String name,
            Map<String, Path> configs,
            Map<String, SluiceProcess> running,
            Map<String, Integer> generation) {
        int n = generation.merge(name, 1, Integer::sum);
        String role = name.startsWith("collector") ? "collector" : name;
        SluiceProcess process = SluiceProcess.start(role, configs.get(name), dir, name + "-" + n);
        running.put(name, process);
        return process;
    }

    private Path writeConfig(
            String name,
            int collectorPort,
            String topic,
            String mirror,
            String id,
            String queueUrl,
            String warehouseUrl,
            CountingReceiver hook)
            throws Exception {
        Path config = dir.resolve(name + ".yaml");
        Files.writeString(config, """
                kafka: {bootstrapServers: "%s", eventsTopic: %s, partitions: 4, controlTopic: roles-control-%s, violationsTopic: roles-violations-%s}
                postgres: {url: "%s", user: sluice}
                collector: {host: 127.0.0.1, port: %d, ackTimeout: 5s}
                admin: {host: 127.0.0.1, port: 0}
                sources: [{id: web, writeKey: wk_roles}]
                destinations:
                  - {id: warehouse, type: postgres, url: "%s", user: sluice}
                  - {id: hook, type: webhook, url: "%s", timeout: 3s}
                  - {id: mirror, type: kafka, bootstrapServers: "%s", topic: %s}
                syncs:
                  - {id: to-warehouse, source: web, destination: warehouse, batch: {maxEvents: 200, maxAge: 200ms}}
                  - {id: to-hook, source: web, destination: hook, batch: {maxEvents: 100, maxAge: 200ms}}
                  - {id: to-mirror, source: web, destination: mirror, batch: {maxEvents: 200, maxAge: 200ms}}
                planner: {groupId: roles-%s}
                worker: {concurrency: 4, pollInterval: 50ms, leaseDuration: 4s, heartbeatInterval: 1s}
                """.formatted(
                        TestKafka.bootstrapServers(),
                        topic,
                        id,
                        id,
                        queueUrl,
                        collectorPort,
                        warehouseUrl,
                        hook.url(),
                        TestKafka.bootstrapServers(),
                        mirror,
                        id));
        return config;
    }

    private static long warehouseRows(String url) throws Exception {
        try (Connection c = DriverManager.getConnection(url, "sluice", "");
                var rs = c.createStatement().executeQuery("SELECT count(*) FROM web.tracks")) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
