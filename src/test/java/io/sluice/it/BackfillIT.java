package io.sluice.it;

import static io.sluice.support.Http.basic;
import static io.sluice.support.Http.post;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.config.ConfigLoader;
import io.sluice.runtime.Sluice;
import io.sluice.support.CommittedMirror;
import io.sluice.support.CountingReceiver;
import io.sluice.support.Http;
import io.sluice.support.SluiceProcess;
import io.sluice.support.TestEvents;
import io.sluice.support.TestKafka;
import io.sluice.support.TestPostgres;
import io.sluice.support.TimedEvents;
import io.sluice.support.TimedEvents.Timed;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Backfills end to end on real Kafka, PostgreSQL and HTTP: three syncs that start at {@code latest} (so their live
 * lanes never see the history) get a window of the events topic again through the admin API, to a warehouse, a
 * counting webhook receiver and a read_committed Kafka mirror (which dedupe nothing but the warehouse's primary key).
 * The window arrives exactly once and nothing outside it; a second run sends every event again with the same
 * Idempotency-Key and Kafka key and adds no warehouse row; a worker SIGKILLed midway loses nothing and duplicates
 * nothing in the warehouse or the mirror. Live events published meanwhile are delivered by the live lane.
 */
class BackfillIT {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Instant T0 = Instant.parse("2026-12-01T08:00:00Z");
    static final Instant T1 = Instant.parse("2026-12-01T09:00:00Z");
    static final Instant T2 = Instant.parse("2026-12-01T10:00:00Z");
    static final int USERS = 24;
    static final int PER_PARTITION = 500;
    static final List<String> SYNCS = List.of("to-warehouse", "to-hook", "to-mirror");

    @TempDir
    Path dir;

    String id = UUID.randomUUID().toString().substring(0, 8);
    String token = "tok-" + id;
    String topic;
    String mirrorTopic;
    String warehouseUrl;
    String queueUrl;
    Path config;
    final CountingReceiver hook = new CountingReceiver();
    Set<String> window = new HashSet<>();
    Set<String> outside = new HashSet<>();
    Set<String> live = new HashSet<>();

    @BeforeEach
    void setUp() throws Exception {
        topic = TestEvents.createTopic("backfill-events", 4);
        mirrorTopic = TestEvents.createTopic("backfill-mirror", 2);
        warehouseUrl = TestPostgres.createDatabase("bf_wh");
        queueUrl = TestPostgres.createDatabase("bf_q");
        config = dir.resolve("sluice.yaml");
        Files.writeString(config, """
                kafka: {bootstrapServers: "%s", eventsTopic: %s, partitions: 4}
                postgres: {url: "%s", user: sluice}
                collector: {host: 127.0.0.1, port: 0}
                admin: {host: 127.0.0.1, port: 0, token: %s}
                sources: [{id: web, writeKey: wk_bf}]
                destinations:
                  - {id: warehouse, type: postgres, url: "%s", user: sluice}
                  - {id: hook, type: webhook, url: "%s"}
                  - {id: mirror, type: kafka, bootstrapServers: "%s", topic: %s, markerTopic: bf-markers-%s}
                syncs:
                  - {id: to-warehouse, source: web, destination: warehouse, startFrom: latest, batch: {maxEvents: 100, maxAge: 200ms}}
                  - {id: to-hook, source: web, destination: hook, startFrom: latest, batch: {maxEvents: 100, maxAge: 200ms}}
                  - {id: to-mirror, source: web, destination: mirror, startFrom: latest, batch: {maxEvents: 100, maxAge: 200ms}}
                planner: {groupId: bf-%s}
                worker: {concurrency: 3, pollInterval: 50ms, leaseDuration: 4s, heartbeatInterval: 1s}
                """.formatted(
                        TestKafka.bootstrapServers(),
                        topic,
                        queueUrl,
                        token,
                        warehouseUrl,
                        hook.url(),
                        TestKafka.bootstrapServers(),
                        mirrorTopic,
                        id,
                        id));
        // history: before the window, the window (PER_PARTITION per partition), after it
        List<Timed> records = new ArrayList<>();
        history(records, "before", T0, 40, outside);
        history(records, "win", T1, PER_PARTITION, window);
        history(records, "after", T2, 40, outside);
        TimedEvents.send(TestKafka.bootstrapServers(), topic, records);
    }

    @AfterEach
    void tearDown() {
        hook.close();
    }

    @Test
    void aWindowArrivesExactlyOnceAndARerunSendsTheSameKeysAndAddsNoRow() throws Exception {
        try (Sluice sluice = sluice(EnumSet.allOf(Sluice.Role.class));
                CommittedMirror mirror = CommittedMirror.start(TestKafka.bootstrapServers(), mirrorTopic)) {
            awaitLiveLanesStarted();
            sendLive(sluice, "live1");
            for (String sync : SYNCS) {
                JsonNode dry = backfill(sluice, sync, true);
                assertThat(dry.get("events").asLong())
                        .as(sync + " dry run events")
                        .isEqualTo(4L * PER_PARTITION);
                assertThat(dry.get("batches").asLong())
                        .as(sync + " dry run batches")
                        .isEqualTo(4L * PER_PARTITION / 100);
            }
            assertThat(scalar(queueUrl, "SELECT count(*) FROM backfills"))
                    .as("dry runs record nothing")
                    .isZero();

            List<Long> first = new ArrayList<>();
            for (String sync : SYNCS)
                first.add(backfill(sluice, sync, false).get("id").asLong());
            sendLive(sluice, "live2"); // while the backfills run
            awaitDone(sluice, first);
            awaitDelivered(mirror, 1);
            assertExactlyOnce(1);

            List<Long> second = new ArrayList<>();
            for (String sync : SYNCS)
                second.add(backfill(sluice, sync, false).get("id").asLong());
            awaitDone(sluice, second);
            awaitDelivered(mirror, 2);
            assertExactlyOnce(2);
            List<ConsumerRecord<byte[], byte[]>> all =
                    CommittedMirror.readAll(TestKafka.bootstrapServers(), mirrorTopic);
            Map<String, Set<String>> keys = all.stream()
                    .collect(Collectors.groupingBy(
                            BackfillIT::messageId,
                            Collectors.mapping(r -> new String(r.key(), StandardCharsets.UTF_8), Collectors.toSet())));
            assertThat(keys.values())
                    .as("a rerun sends each event with the same Kafka key")
                    .allSatisfy(k -> assertThat(k).hasSize(1));
            assertInOrderPerUser();
            JsonNode done = Http.request(
                            "GET",
                            sluice.adminUrl() + "/admin/backfills/" + second.get(0),
                            "Authorization",
                            "Bearer " + token)
                    .body()
                    .transform(BackfillIT::parse);
            assertThat(done.get("plannedEvents").asLong()).isEqualTo(4L * PER_PARTITION);
            assertThat(done.get("deliveredBatches").asLong()).isEqualTo(4L * PER_PARTITION / 100);
        }
    }

    @Test
    void aWorkerKilledMidwayLosesNothingAndTheWarehouseAndMirrorGetEachEventOnce() throws Exception {
        try (Sluice planner = sluice(EnumSet.of(Sluice.Role.COLLECTOR, Sluice.Role.PLANNER));
                CommittedMirror mirror = CommittedMirror.start(TestKafka.bootstrapServers(), mirrorTopic)) {
            awaitLiveLanesStarted();
            SluiceProcess worker =
                    SluiceProcess.start("worker", config, dir, "worker-1").awaitRunning(Duration.ofSeconds(180));
            List<Long> ids = new ArrayList<>();
            for (String sync : SYNCS)
                ids.add(backfill(planner, sync, false, 600).get("id").asLong());
            await().atMost(Duration.ofSeconds(120)).until(() -> hook.accepted().size() > 300);
            worker.kill();
            sendLive(planner, "live1");
            try (SluiceProcess worker2 =
                    SluiceProcess.start("worker", config, dir, "worker-2").awaitRunning(Duration.ofSeconds(180))) {
                awaitDone(planner, ids);
                awaitDelivered(mirror, 1);
                assertThat(rows("count(*)")).as("warehouse rows").isEqualTo(window.size() + live.size());
                assertThat(rows("count(DISTINCT id)")).isEqualTo(window.size() + live.size());
                Map<String, Long> mirrored = counts(CommittedMirror.readAll(TestKafka.bootstrapServers(), mirrorTopic));
                assertThat(mirrored.keySet()).isEqualTo(union(window, live));
                assertThat(mirrored.values())
                        .as("the mirror saw each event once")
                        .containsOnly(1L);
                assertThat(hook.accepted().keySet())
                        .as("every event reached the webhook, nothing outside the window")
                        .isEqualTo(union(window, live));
                // a batch the killed worker was sending is sent again, with the same Idempotency-Key: at least once
                assertThat(scalar(queueUrl, "SELECT count(*) FROM batches WHERE lane <> 0 AND epoch > 1"))
                        .as("the kill landed while backfill batches were held (else this proved nothing)")
                        .isPositive();
                assertInOrderPerUser();
                assertThat(worker2.output()).doesNotContain("Exception in thread");
            }
        }
    }

    private void assertExactlyOnce(int runs) throws Exception {
        assertThat(rows("count(*)")).as("warehouse rows after %d run(s)", runs).isEqualTo(window.size() + live.size());
        assertThat(rows("count(DISTINCT id)")).isEqualTo(window.size() + live.size());
        Map<String, Integer> accepted = hook.accepted();
        assertThat(accepted.keySet()).isEqualTo(union(window, live));
        for (String w : window)
            assertThat(accepted.get(w)).as("webhook deliveries of " + w).isEqualTo(runs);
        for (String l : live)
            assertThat(accepted.get(l)).as("webhook deliveries of " + l).isEqualTo(1);
        Map<String, Long> mirrored = counts(CommittedMirror.readAll(TestKafka.bootstrapServers(), mirrorTopic));
        assertThat(mirrored.keySet()).isEqualTo(union(window, live));
        for (String w : window)
            assertThat(mirrored.get(w)).as("mirror records of " + w).isEqualTo(runs);
        for (String l : live)
            assertThat(mirrored.get(l)).as("mirror records of " + l).isEqualTo(1L);
        // the delivery accounting's "backfilled" term: each run's window, once per sync (docs/console.md)
        assertThat(scalar(queueUrl, "SELECT coalesce(sum(backfilled), 0) FROM sync_counts"))
                .as("backfilled events in the delivery accounting after %d run(s)", runs)
                .isEqualTo((long) SYNCS.size() * runs * window.size());
    }

    private void awaitDelivered(CommittedMirror mirror, int runs) {
        long expected = (long) window.size() * runs + live.size();
        await().atMost(Duration.ofSeconds(120))
                .pollInterval(Duration.ofMillis(500))
                .until(() -> {
                    long hooked = hook.accepted().values().stream()
                            .mapToLong(Integer::longValue)
                            .sum();
                    return mirror.records().size() >= expected
                            && hooked >= expected
                            && rows("count(*)") >= window.size() + live.size();
                });
    }

    private void awaitLiveLanesStarted() {
        await().atMost(Duration.ofSeconds(120))
                .pollInterval(Duration.ofMillis(200))
                .until(() -> scalar(queueUrl, "SELECT count(*) FROM planner_progress") == SYNCS.size() * 4L);
        assertThat(scalarOr(queueUrl, "SELECT count(*) FROM batches"))
                .as("startFrom latest: no history")
                .isZero();
    }

    private void awaitDone(Sluice sluice, List<Long> ids) {
        await().atMost(Duration.ofSeconds(240))
                .pollInterval(Duration.ofMillis(500))
                .until(() -> {
                    for (long id : ids) {
                        JsonNode b = parse(Http.request(
                                        "GET",
                                        sluice.adminUrl() + "/admin/backfills/" + id,
                                        "Authorization",
                                        "Bearer " + token)
                                .body());
                        if (!b.get("status").asText().equals("done")) return false;
                    }
                    return true;
                });
    }

    private JsonNode backfill(Sluice sluice, String sync, boolean dryRun) {
        return backfill(sluice, sync, dryRun, 100_000);
    }

    private JsonNode backfill(Sluice sluice, String sync, boolean dryRun, int rate) {
        var response = post(
                sluice.adminUrl() + "/admin/syncs/" + sync + "/backfill",
                "{\"from\":\"" + T1 + "\",\"to\":\"" + T2 + "\",\"rate\":" + rate + ",\"dryRun\":" + dryRun + "}",
                "Authorization",
                "Bearer " + token);
        assertThat(response.statusCode()).as(response.body()).isIn(200, 201);
        return parse(response.body());
    }

    private Sluice sluice(Set<Sluice.Role> roles) {
        Sluice sluice = new Sluice(new ConfigLoader(Map.of()).load(config), roles, false, Clock.systemUTC());
        sluice.start();
        return sluice;
    }

    /** Track events "Step" of USERS users, each user on one partition with an increasing seq. */
    private static void history(List<Timed> records, String prefix, Instant at, int perPartition, Set<String> ids) {
        int[] seq = new int[USERS];
        for (int i = 0; i < perPartition * 4; i++) {
            int user = i % USERS;
            String messageId = prefix + "-" + i;
            ids.add(messageId);
            String value = "{\"type\":\"track\",\"event\":\"Step\",\"userId\":\"user-" + user + "\",\"messageId\":\""
                    + messageId + "\",\"receivedAt\":\"" + at + "\",\"timestamp\":\"" + at
                    + "\",\"sourceId\":\"web\",\"properties\":{\"seq\":" + (seq[user]++) + "}}";
            records.add(new Timed(user % 4, "web", "user-" + user, value, at.plusMillis(i)));
        }
    }

    private void sendLive(Sluice collector, String prefix) {
        StringBuilder body = new StringBuilder("{\"batch\":[");
        for (int i = 0; i < 100; i++) {
            String messageId = prefix + "-" + i;
            body.append(i == 0 ? "" : ",")
                    .append("{\"type\":\"track\",\"event\":\"Live\",\"userId\":\"user-")
                    .append(i % USERS)
                    .append("\",\"messageId\":\"")
                    .append(messageId)
                    .append("\"}");
        }
        var response = post(
                collector.collectorUrl() + "/v1/batch", body.append("]}").toString(), "Authorization", basic("wk_bf"));
        assertThat(response.statusCode()).isEqualTo(200);
        for (int i = 0; i < 100; i++) live.add(prefix + "-" + i);
    }

    /** Within each user, the window's events were loaded in seq order (one lane keeps per-user order). */
    private void assertInOrderPerUser() throws Exception {
        try (Connection c = DriverManager.getConnection(warehouseUrl, "sluice", "")) {
            long inversions = scalar(c, """
                    SELECT count(*) FROM (
                      SELECT uuid_ts < lag(uuid_ts) OVER (PARTITION BY user_id ORDER BY seq) AS inverted FROM web.step) t
                    WHERE inverted""");
            assertThat(inversions)
                    .as("window events loaded out of order for some user")
                    .isZero();
        }
    }

    private long rows(String what) throws Exception {
        try (Connection c = DriverManager.getConnection(warehouseUrl, "sluice", "")) {
            return scalar(c, "SELECT " + what + " FROM web.tracks");
        } catch (java.sql.SQLException e) {
            if ("42P01".equals(e.getSQLState())) return 0; // no table yet
            throw e;
        }
    }

    private static Set<String> union(Set<String> a, Set<String> b) {
        Set<String> all = new HashSet<>(a);
        all.addAll(b);
        return all;
    }

    private static Map<String, Long> counts(List<ConsumerRecord<byte[], byte[]>> records) {
        return records.stream().collect(Collectors.groupingBy(BackfillIT::messageId, Collectors.counting()));
    }

    private static String messageId(ConsumerRecord<byte[], byte[]> r) {
        try {
            return JSON.readTree(r.value()).get("messageId").asText();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static JsonNode parse(String body) {
        try {
            return JSON.readTree(body);
        } catch (Exception e) {
            throw new AssertionError(body, e);
        }
    }

    private static long scalarOr(String url, String sql) {
        try {
            return scalar(url, sql);
        } catch (Exception e) {
            return -1;
        }
    }

    private static long scalar(String url, String sql) throws Exception {
        try (Connection c = DriverManager.getConnection(url, "sluice", "")) {
            return scalar(c, sql);
        }
    }

    private static long scalar(Connection c, String sql) throws Exception {
        try (var rs = c.createStatement().executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
