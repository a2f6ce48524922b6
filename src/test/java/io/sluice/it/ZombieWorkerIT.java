package io.sluice.it;

import static io.sluice.support.Http.basic;
import static io.sluice.support.Http.post;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.config.ConfigLoader;
import io.sluice.runtime.Sluice;
import io.sluice.support.QueueState;
import io.sluice.support.SluiceProcess;
import io.sluice.support.TestKafka;
import io.sluice.support.TestPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Clock;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A worker process frozen (SIGSTOP) while it holds a batch, past its lease; another worker takes the batch and
 * delivers it; then the frozen one is resumed (SIGCONT). Its completion is refused by the lease epoch, and the
 * warehouse holds each event once.
 */
class ZombieWorkerIT {
    static final int EVENTS = 2000;

    @TempDir
    Path dir;

    @Test
    void aFrozenWorkerCannotCompleteABatchSomeoneElseTookOver() throws Exception {
        String warehouseUrl = TestPostgres.createDatabase("zombie_wh");
        String queueUrl = TestPostgres.createDatabase("zombie_q");
        Path config = dir.resolve("sluice.yaml");
        String id = UUID.randomUUID().toString();
        Files.writeString(config, """
                kafka: {bootstrapServers: "%s", eventsTopic: zombie-%s, partitions: 1}
                postgres: {url: "%s", user: sluice}
                collector: {host: 127.0.0.1, port: 0}
                admin: {host: 127.0.0.1, port: 0}
                sources: [{id: web, writeKey: wk_zombie}]
                destinations: [{id: warehouse, type: postgres, url: "%s", user: sluice}]
                syncs: [{id: s, source: web, destination: warehouse, batch: {maxEvents: %d, maxAge: 300ms}}]
                planner: {groupId: zombie-%s}
                worker: {concurrency: 1, pollInterval: 20ms, leaseDuration: 3s, heartbeatInterval: 1s}
                """.formatted(TestKafka.bootstrapServers(), id, queueUrl, warehouseUrl, EVENTS, id));
        try (Sluice collectorAndPlanner = new Sluice(
                        new ConfigLoader(Map.of()).load(config),
                        EnumSet.of(Sluice.Role.COLLECTOR, Sluice.Role.PLANNER),
                        false,
                        Clock.systemUTC());
                Connection queue = DriverManager.getConnection(queueUrl, "sluice", "")) {
            collectorAndPlanner.start();
            SluiceProcess zombie =
                    SluiceProcess.start("worker", config, dir, "worker-zombie").awaitRunning(Duration.ofSeconds(60));
            long frozenBatch = -1;
            int sent = 0;
            for (int attempt = 0; attempt < 8 && frozenBatch < 0; attempt++) {
                long newest = newestBatch(queue);
                sent += send(collectorAndPlanner, attempt);
                frozenBatch = freezeWhileHolding(queue, zombie, newest);
            }
            assertThat(frozenBatch).as("caught the worker holding a batch").isPositive();

            try (SluiceProcess rescuer =
                    SluiceProcess.start("worker", config, dir, "worker-rescuer").awaitRunning(Duration.ofSeconds(60))) {
                long batch = frozenBatch;
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> status(queue, batch).startsWith("done"));
                assertThat(status(queue, batch)).isEqualTo("done epoch 2");
                signal("CONT", zombie.pid());
                int expected = sent;
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> zombie.output().contains("Abandoning batch " + batch));
                await().atMost(Duration.ofSeconds(30)).until(() -> rows(warehouseUrl, "count(*)") == expected);
                await().atMost(Duration.ofSeconds(60)) // the zombie's and the rescuer's deliveries all made
                        .until(() -> QueueState.nothingLeftToDeliver(queueUrl));
                assertThat(rows(warehouseUrl, "count(*)")).isEqualTo(expected);
                // id is the warehouse's primary key: these counts prove nothing lost. The zombie's own delivery is a
                // duplicate by design (absorbed by the warehouse); what it must not do is change the row (below).
                assertThat(rows(warehouseUrl, "count(DISTINCT id)")).isEqualTo(expected);
                assertThat(status(queue, batch))
                        .as("the zombie did not change the row")
                        .isEqualTo("done epoch 2");
            } finally {
                signal("CONT", zombie.pid());
                zombie.close();
            }
        }
    }

    private static int send(Sluice collector, int round) {
        StringBuilder body = new StringBuilder("{\"batch\":[");
        for (int i = 0; i < EVENTS; i++) {
            body.append(i == 0 ? "" : ",")
                    .append("{\"type\":\"track\",\"event\":\"Z\",\"userId\":\"u")
                    .append(i % 10)
                    .append("\",\"messageId\":\"z-")
                    .append(round)
                    .append('-')
                    .append(i)
                    .append("\"}");
        }
        var response = post(
                collector.collectorUrl() + "/v1/batch",
                body.append("]}").toString(),
                "Authorization",
                basic("wk_zombie"));
        assertThat(response.statusCode()).isEqualTo(200);
        return EVENTS;
    }

    /**
     * Polls until the worker holds a batch newer than {@code afterId} and stops the worker right there; returns the
     * batch id, or -1 if the worker finished it before it could be caught.
     */
    private static long freezeWhileHolding(Connection queue, SluiceProcess worker, long afterId) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (System.nanoTime() < deadline) {
            try (var rs = queue.createStatement()
                    .executeQuery("SELECT id, status FROM batches WHERE id > " + afterId + " ORDER BY id LIMIT 1")) {
                if (rs.next()) {
                    long batch = rs.getLong(1);
                    String state = rs.getString(2);
                    if (state.equals("done")) return -1;
                    if (state.equals("running")) {
                        signal("STOP", worker.pid());
                        if (status(queue, batch).startsWith("running")) return batch;
                        signal("CONT", worker.pid());
                        return -1;
                    }
                }
            }
            Thread.onSpinWait(); // catching the worker mid-batch needs a tight poll; each query paces it
        }
        return -1;
    }

    private static long newestBatch(Connection queue) throws Exception {
        try (var rs = queue.createStatement().executeQuery("SELECT coalesce(max(id), 0) FROM batches")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static String status(Connection queue, long batch) throws Exception {
        try (var rs = queue.createStatement()
                .executeQuery("SELECT status || ' epoch ' || epoch FROM batches WHERE id = " + batch)) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static long rows(String warehouseUrl, String what) {
        try (Connection c = DriverManager.getConnection(warehouseUrl, "sluice", "");
                var rs = c.createStatement().executeQuery("SELECT " + what + " FROM web.tracks")) {
            rs.next();
            return rs.getLong(1);
        } catch (Exception e) {
            return 0;
        }
    }

    private static void signal(String signal, long pid) throws Exception {
        new ProcessBuilder("kill", "-" + signal, Long.toString(pid))
                .inheritIO()
                .start()
                .waitFor();
    }
}
