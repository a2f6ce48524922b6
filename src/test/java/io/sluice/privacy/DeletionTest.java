package io.sluice.privacy;

import static io.sluice.privacy.PrivacyRig.count;
import static io.sluice.privacy.PrivacyRig.send;
import static io.sluice.privacy.PrivacyRig.submit;
import static io.sluice.privacy.PrivacyRig.track;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.config.ConfigLoader;
import io.sluice.config.SluiceConfig;
import io.sluice.runtime.Sluice;
import io.sluice.support.CountingReceiver;
import io.sluice.support.Http;
import io.sluice.support.TestKafka;
import io.sluice.support.TestPostgres;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * Deletion on real Kafka, PostgreSQL and HTTP: a person (userId {@code carol}, anonymousId {@code anon-c}) has rows
 * in every warehouse table, events in the retry queue and the dead letters, and events still waiting in a paused
 * sync. After a delete request — with the process closed midway, while the webhook's deletion call still fails, and
 * started again — the request is reported done, the person has 0 rows in every table and queue, the waiting events
 * were discarded (counted) instead of delivered, the deletion call was retried until the receiver took it, and
 * another person's data is untouched.
 */
class DeletionTest {
    private static final List<String> PERSON = List.of("carol", "anon-c");

    @Test
    void deletionLeavesNothingOfThePersonAndSurvivesARestartMidway() throws Exception {
        String warehouseUrl = TestPostgres.createDatabase("privacy_wh");
        String queueUrl = TestPostgres.createDatabase("privacy_queue");
        AtomicBoolean deletionsAccepted = new AtomicBoolean(false);
        try (CountingReceiver receiver = new CountingReceiver()) {
            receiver.answer((key, attempt) -> key.startsWith("sluice-privacy-") && !deletionsAccepted.get()
                    ? new CountingReceiver.Reply(500, Duration.ZERO)
                    : CountingReceiver.Reply.ok());
            SluiceConfig config = new ConfigLoader(Map.of()).loadYaml("""
                    kafka: {bootstrapServers: "%s", eventsTopic: privacy-del-%s, partitions: 2}
                    postgres: {url: "%s", user: sluice}
                    collector: {host: 127.0.0.1, port: 0}
                    admin: {host: 127.0.0.1, port: 0, token: %s}
                    sources: [{id: web, writeKey: %s}]
                    destinations:
                      - {id: warehouse, type: postgres, url: "%s", user: sluice}
                      - {id: hooks, type: webhook, url: "%s", deletionUrl: "%s"}
                    syncs:
                      - {id: web-to-warehouse, source: web, destination: warehouse, batch: {maxEvents: 50, maxAge: 100ms}}
                      - {id: web-to-hooks, source: web, destination: hooks, batch: {maxEvents: 50, maxAge: 100ms}}
                    planner: {groupId: privacy-del-%s}
                    worker: {pollInterval: 50ms}
                    """.formatted(
                            TestKafka.bootstrapServers(),
                            UUID.randomUUID(),
                            queueUrl,
                            PrivacyRig.TOKEN,
                            PrivacyRig.WRITE_KEY,
                            warehouseUrl,
                            receiver.url(),
                            receiver.url(),
                            UUID.randomUUID()));
            List<String> late = new ArrayList<>();
            long id;
            try (Connection warehouse = DriverManager.getConnection(warehouseUrl, "sluice", "");
                    Connection queue = DriverManager.getConnection(queueUrl, "sluice", "")) {
                try (Sluice first = start(config)) {
                    sendEverythingOfCarolAndDave(first);
                    await().atMost(Duration.ofSeconds(60))
                            .pollInterval(Duration.ofMillis(250))
                            .until(() -> rows(warehouse, "tracks") == 5
                                    && rows(warehouse, "identifies") == 2
                                    && rows(warehouse, "users") == 2
                                    && rows(warehouse, "pages") == 1
                                    && rows(warehouse, "screens") == 1
                                    && rows(warehouse, "groups") == 1
                                    && rows(warehouse, "aliases") == 1
                                    && receiver.accepted().containsKey("c-alias"));
                    queueRowsFor(queue, "carol", "c-dead", "c-retry");
                    queueRowsFor(queue, "dave", "d-dead", "d-retry");

                    // Events of carol received before the request but not delivered yet: their syncs are paused.
                    pause(first, "web-to-warehouse", "pause");
                    pause(first, "web-to-hooks", "pause");
                    for (int i = 0; i < 4; i++) {
                        late.add("c-late-" + i);
                        send(first, "track", track("c-late-" + i, i % 2 == 0 ? "carol" : null, "anon-c", "Late"));
                    }
                    id = submit(first, "delete", PERSON.toArray(String[]::new));
                    // Midway: the queue and the warehouse are done, the webhook's deletion call keeps failing.
                    await().atMost(Duration.ofSeconds(30))
                            .pollInterval(Duration.ofMillis(200))
                            .until(() -> {
                                JsonNode r = PrivacyRig.request(first, id);
                                return status(r, "queue").equals("done")
                                        && status(r, "destination:warehouse").equals("done")
                                        && status(r, "destination:hooks").equals("failed");
                            });
                    JsonNode midway = PrivacyRig.request(first, id);
                    assertThat(midway.get("state").asText()).isEqualTo("failed");
                    assertThat(PrivacyRig.target(midway, "destination:hooks")
                                    .get("reason")
                                    .asText())
                            .contains("HTTP 500");
                    assertThat(status(midway, "destination:hooks")).isEqualTo("failed");
                }
                deletionsAccepted.set(true);
                try (Sluice second = start(config)) {
                    pause(second, "web-to-warehouse", "resume");
                    pause(second, "web-to-hooks", "resume");
                    await().atMost(Duration.ofSeconds(60))
                            .pollInterval(Duration.ofMillis(250))
                            .until(() -> PrivacyRig.request(second, id)
                                    .get("state")
                                    .asText()
                                    .equals("done"));
                    JsonNode done = PrivacyRig.request(second, id);
                    assertThat(done.get("requestedBy").asText()).isEqualTo("admin API: dpo@example.com");
                    assertThat(done.get("finishedAt").isNull()).isFalse();
                    assertThat(status(done, "destination:hooks")).isEqualTo("done");
                    assertThat(PrivacyRig.target(done, "destination:hooks")
                                    .get("attempts")
                                    .asInt())
                            .isGreaterThanOrEqualTo(2);
                    assertThat(receiver.accepted()).containsEntry("sluice-privacy-" + id, 1);
                    assertThat(PrivacyRig.target(done, "destination:warehouse")
                                    .get("reason")
                                    .asText())
                            .isEqualTo("12 rows");
                    assertThat(PrivacyRig.target(done, "queue").get("reason").asText())
                            .isEqualTo("1 retry events, 1 dead letters");

                    // The paused events were read after the request: discarded, not delivered.
                    await().atMost(Duration.ofSeconds(60))
                            .pollInterval(Duration.ofMillis(250))
                            .until(() -> count(queue, "SELECT count(*) FROM batches WHERE status <> 'done'") == 0
                                    && PrivacyRig.counterSum(second, "sluice.worker.privacy.discarded.events") == 8);
                    assertThat(receiver.accepted().keySet()).doesNotContainAnyElementsOf(late);
                    // ...and the delivery accounting shows them as discarded (docs/console.md), once each
                    await().atMost(Duration.ofSeconds(30))
                            .pollInterval(Duration.ofMillis(250))
                            .until(() -> count(queue, "SELECT coalesce(sum(discarded), 0) FROM sync_counts") == 8);
                }
                assertNothingOfCarolAndDaveKept(warehouse, queue);
            }
        }
    }

    private static Sluice start(SluiceConfig config) {
        Sluice sluice = new Sluice(config, EnumSet.allOf(Sluice.Role.class), false, Clock.systemUTC());
        sluice.start();
        return sluice;
    }

    private static void sendEverythingOfCarolAndDave(Sluice sluice) {
        send(sluice, "track", track("c-t1", "carol", "anon-c", "Order Completed"));
        send(sluice, "track", track("c-t2", "carol", null, "Signed Up"));
        send(sluice, "track", track("c-t3", null, "anon-c", "Viewed"));
        send(
                sluice,
                "identify",
                "{\"type\":\"identify\",\"messageId\":\"c-i1\",\"userId\":\"carol\","
                        + "\"traits\":{\"email\":\"carol@example.com\"}}");
        send(sluice, "page", "{\"type\":\"page\",\"name\":\"Home\",\"messageId\":\"c-p1\",\"anonymousId\":\"anon-c\"}");
        send(sluice, "screen", "{\"type\":\"screen\",\"name\":\"Cart\",\"messageId\":\"c-s1\",\"userId\":\"carol\"}");
        send(sluice, "group", "{\"type\":\"group\",\"groupId\":\"acme\",\"messageId\":\"c-g1\",\"userId\":\"carol\"}");
        send(
                sluice,
                "alias",
                "{\"type\":\"alias\",\"previousId\":\"anon-c\",\"userId\":\"carol\",\"messageId\":\"c-alias\"}");
        send(sluice, "track", track("d-t1", "dave", "anon-d", "Order Completed"));
        send(sluice, "track", track("d-t2", "dave", null, "Viewed"));
        send(
                sluice,
                "identify",
                "{\"type\":\"identify\",\"messageId\":\"d-i1\",\"userId\":\"dave\","
                        + "\"traits\":{\"email\":\"dave@example.com\"}}");
    }

    /** A dead letter and a retry-queue event of this user (the retry is not due for a day: it stays put). */
    private static void queueRowsFor(Connection queue, String user, String dead, String retry) throws Exception {
        String event = "{\"type\":\"track\",\"event\":\"X\",\"userId\":\"" + user + "\",\"messageId\":\"%s\"}";
        try (PreparedStatement ps = queue.prepareStatement("""
                INSERT INTO dead_letters (sync_id, message_id, message_key, event, error, attempts, first_failed_at, failed_at)
                VALUES ('web-to-hooks', ?, sha256(convert_to(?, 'UTF8')), convert_to(?, 'UTF8'), 'refused', 1, now(), now())""")) {
            ps.setString(1, dead);
            ps.setString(2, dead);
            ps.setString(3, event.formatted(dead));
            ps.executeUpdate();
        }
        try (PreparedStatement ps = queue.prepareStatement("""
                INSERT INTO retry_events (sync_id, user_key, user_hash, message_id, event, attempts, next_attempt_at, first_failed_at, created_at)
                VALUES ('web-to-hooks', ?, sha256(convert_to(?, 'UTF8')), ?, convert_to(?, 'UTF8'), 1, now() + interval '1 day', now(), now())""")) {
            ps.setString(1, user);
            ps.setString(2, user);
            ps.setString(3, retry);
            ps.setString(4, event.formatted(retry));
            ps.executeUpdate();
        }
    }

    private static void assertNothingOfCarolAndDaveKept(Connection warehouse, Connection queue) throws Exception {
        // Columns are created when a value first needs them: each table is checked by the id columns it has.
        Map<String, List<String>> idColumns = new TreeMap<>();
        try (PreparedStatement ps = warehouse.prepareStatement(
                        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'web'"
                                + " AND column_name IN ('user_id', 'anonymous_id', 'previous_id') ORDER BY 1, 2");
                ResultSet rs = ps.executeQuery()) {
            while (rs.next())
                idColumns
                        .computeIfAbsent(rs.getString(1), t -> new ArrayList<>())
                        .add(rs.getString(2));
        }
        assertThat(idColumns)
                .containsKeys(
                        "tracks",
                        "order_completed",
                        "signed_up",
                        "viewed",
                        "identifies",
                        "pages",
                        "screens",
                        "groups",
                        "aliases");
        for (Map.Entry<String, List<String>> table : idColumns.entrySet()) {
            if (table.getKey().equals("users")) continue; // by its id, below
            String where = String.join(
                    " OR ", table.getValue().stream().map(c -> c + " = ANY(?)").toList());
            assertThat(countIds(
                            warehouse, "SELECT count(*) FROM web.\"" + table.getKey() + "\" WHERE " + where, PERSON))
                    .as("rows of carol in web.%s by %s", table.getKey(), table.getValue())
                    .isZero();
        }
        assertThat(countIds(warehouse, "SELECT count(*) FROM web.users WHERE id = ANY(?)", PERSON))
                .isZero();
        assertThat(count(warehouse, "SELECT count(*) FROM web.users WHERE id = 'dave'"))
                .isEqualTo(1);
        assertThat(count(warehouse, "SELECT count(*) FROM web.tracks WHERE user_id = 'dave'"))
                .isEqualTo(2);
        assertThat(count(warehouse, "SELECT count(*) FROM web.identifies WHERE user_id = 'dave'"))
                .isEqualTo(1);
        for (String table : List.of("retry_events", "dead_letters")) {
            assertThat(count(queue, "SELECT count(*) FROM " + table + " WHERE message_id LIKE 'c-%'"))
                    .as("carol's rows in %s", table)
                    .isZero();
            assertThat(count(queue, "SELECT count(*) FROM " + table + " WHERE message_id LIKE 'd-%'"))
                    .as("dave's rows in %s", table)
                    .isEqualTo(1);
        }
    }

    private static long countIds(Connection c, String sql, List<String> ids) throws Exception {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            int params = (int) sql.chars().filter(ch -> ch == '?').count();
            for (int i = 1; i <= params; i++) ps.setArray(i, c.createArrayOf("text", ids.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private static long rows(Connection warehouse, String table) {
        try {
            return count(warehouse, "SELECT count(*) FROM web." + table);
        } catch (Exception e) {
            return -1; // not created yet
        }
    }

    private static String status(JsonNode request, String target) {
        return PrivacyRig.target(request, target).get("status").asText();
    }

    private static void pause(Sluice sluice, String sync, String action) {
        var response = Http.request(
                "POST",
                sluice.adminUrl() + "/admin/syncs/" + sync + "/" + action,
                "Authorization",
                "Bearer " + PrivacyRig.TOKEN);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    }
}
