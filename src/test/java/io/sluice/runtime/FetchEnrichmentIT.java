package io.sluice.runtime;

import static io.sluice.support.Http.basic;
import static io.sluice.support.Http.post;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.sluice.config.ConfigLoader;
import io.sluice.support.EnrichmentServer;
import io.sluice.support.TestKafka;
import io.sluice.support.TestPostgres;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A sync whose function enriches every event from a real HTTP service, beside a plain sync on the same source, both
 * to webhooks that dedupe nothing. The service is healthy, then slow (2 s per call), then failing (500s and dropped
 * connections), then down (connections refused), then healthy again; backoffs are short so the outage costs
 * seconds, not minutes. While the service fails, the enriched sync's batches wait whole (no event dead-lettered, no
 * per-event retry row, batch rows only as the planner cuts them: measured in pg_stat_user_tables) and the plain
 * sync keeps delivering; after recovery every event arrives exactly once at the receiver, enriched, in per-user order.
 */
class FetchEnrichmentIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int USERS = 10;

    @TempDir
    Path dir;

    /** What a webhook path received, in arrival order. */
    private static final class Received {
        final List<JsonNode> events = new CopyOnWriteArrayList<>();
        final Map<String, AtomicInteger> count = new ConcurrentHashMap<>();
    }

    private final Map<String, Received> received = new ConcurrentHashMap<>();
    private final Map<String, Integer> nextSeq = new ConcurrentHashMap<>();
    private final List<String> sent = new ArrayList<>();

    @Test
    void aFailingEnrichmentHoldsOnlyItsSyncAndEveryEventArrivesOnceEnrichedInOrder() throws Exception {
        received.put("/enriched", new Received());
        received.put("/plain", new Received());
        HttpServer receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 200);
        receiver.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        receiver.createContext("/", this::receive);
        receiver.start();
        Files.writeString(dir.resolve("enrich.js"), """
                async function transform(event, context) {
                  const r = await fetch(context.settings.base + '/users/' + encodeURIComponent(event.userId),
                                        { headers: { Authorization: 'Bearer ' + context.settings.apiKey } });
                  if (r.status === 404) throw new Error('no user ' + event.userId);
                  const user = await r.json();
                  event.properties.tier = user.tier;
                  return event;
                }
                """);
        String id = UUID.randomUUID().toString();
        String hooks = "http://127.0.0.1:" + receiver.getAddress().getPort();
        String queueUrl = TestPostgres.createDatabase("fetch_q");
        try (EnrichmentServer service = new EnrichmentServer()) {
            Path config = dir.resolve("sluice.yaml");
            Files.writeString(config, """
                    kafka: {bootstrapServers: "%s", eventsTopic: fetch-%s, partitions: 2, controlTopic: control-%s}
                    postgres: {url: "%s", user: sluice}
                    collector: {host: 127.0.0.1, port: 0}
                    admin: {host: 127.0.0.1, port: 0}
                    sources: [{id: web, writeKey: wk_fetch}]
                    destinations:
                      - {id: hooks, type: webhook, url: "%s/enriched", retry: {base: 200ms, cap: 1s, maxAttempts: 1000}}
                      - {id: plain-hooks, type: webhook, url: "%s/plain", retry: {base: 200ms, cap: 1s, maxAttempts: 1000}}
                    syncs:
                      - id: enriched
                        source: web
                        destination: hooks
                        function: enrich.js
                        settings: {base: "%s", apiKey: "${ENRICH_API_KEY}"}
                        fetch: {allowHosts: ["127.0.0.1:%d"], timeout: 3s, batchTimeout: 20s, concurrency: 8}
                        batch: {maxEvents: 50, maxAge: 200ms}
                      - {id: plain, source: web, destination: plain-hooks, batch: {maxEvents: 50, maxAge: 200ms}}
                    functions: {timeout: 2s}
                    planner: {groupId: fetch-%s}
                    worker: {pollInterval: 50ms}
                    """.formatted(
                    TestKafka.bootstrapServers(), id, id, queueUrl, hooks, hooks, service.url(""), service.port(), id));
            try (Sluice sluice = new Sluice(
                            new ConfigLoader(Map.of("ENRICH_API_KEY", "secret-key-1")).load(config),
                            EnumSet.allOf(Sluice.Role.class),
                            false,
                            Clock.systemUTC());
                    Connection queue = DriverManager.getConnection(queueUrl, "sluice", "")) {
                sluice.start();

                // healthy
                send(sluice, "healthy", 100);
                awaitDelivered("/enriched", 100, Duration.ofSeconds(90));
                assertThat(service.lastAuthorization()).isEqualTo("Bearer secret-key-1");

                // slow: 2 s per call, 8 calls in flight for the sync
                service.slowness(Duration.ofSeconds(2));
                service.mode(EnrichmentServer.Mode.SLOW);
                send(sluice, "slow", 20);
                awaitDelivered("/enriched", 120, Duration.ofSeconds(90));
                awaitDelivered("/plain", 120, Duration.ofSeconds(30));

                // failing, then down: the enriched sync waits, the plain one goes on
                Map<String, Long> before = tableStats(queue);
                long lastBatchBefore = count(queue, "SELECT coalesce(max(id), 0) FROM batches");
                double waitsBefore = waits(sluice);
                service.mode(EnrichmentServer.Mode.FAILING);
                send(sluice, "failing", 100);
                awaitDelivered("/plain", 220, Duration.ofSeconds(60));
                await().atMost(Duration.ofSeconds(60)).until(() -> waits(sluice) >= waitsBefore + 3);
                service.down();
                service.mode(EnrichmentServer.Mode.HEALTHY);
                send(sluice, "down", 100);
                awaitDelivered("/plain", 320, Duration.ofSeconds(60));
                double waitsWhileDown = waits(sluice);
                await().atMost(Duration.ofSeconds(60)).until(() -> waits(sluice) >= waitsWhileDown + 3);
                assertThat(received.get("/enriched").events)
                        .as("nothing of the outage delivered unenriched")
                        .hasSize(120);
                assertThat(count(queue, "SELECT count(*) FROM dead_letters")).isZero();
                // exact row counts for the assertions; the server's statistics (reported up to a second late) printed
                Map<String, Long> during = tableStats(queue);
                long batchRows = count(
                        queue, "SELECT count(*) FROM batches WHERE sync_id = 'enriched' AND id > " + lastBatchBefore);
                long batchEvents = count(
                        queue,
                        "SELECT coalesce(sum(event_count), 0) FROM batches WHERE sync_id = 'enriched' AND id > "
                                + lastBatchBefore);
                long retryRows = count(queue, "SELECT count(*) FROM retry_events WHERE sync_id = 'enriched'");
                System.out.printf(
                        "outage: %d events of the enriched sync in %d batch rows, %.0f batch waits; pg_stat_user_tables"
                                + " deltas: batches %d inserted / %d updated, retry_events %d, dead_letters %d;"
                                + " pg_stat_database: %d commits%n",
                        batchEvents,
                        batchRows,
                        waits(sluice) - waitsBefore,
                        during.get("batches.ins") - before.get("batches.ins"),
                        during.get("batches.upd") - before.get("batches.upd"),
                        during.get("retry_events.ins") - before.get("retry_events.ins"),
                        during.get("dead_letters.ins") - before.get("dead_letters.ins"),
                        during.get("xact_commit") - before.get("xact_commit"));
                assertThat(batchEvents).isEqualTo(200);
                assertThat(retryRows).as("per-event retry rows").isZero();
                // the planner cuts at most one batch per partition and request of 20 events (10 requests), or two
                // when a request straddles a cut: rows follow the cuts, never the events
                assertThat(batchRows).as("batch rows of 200 events").isLessThanOrEqualTo(40);

                // healthy again: everything arrives, once, enriched, in per-user order
                service.up();
                awaitDelivered("/enriched", 320, Duration.ofSeconds(120));
                Received enriched = received.get("/enriched");
                assertThat(enriched.count.keySet()).containsExactlyInAnyOrderElementsOf(sent);
                assertThat(enriched.count.values())
                        .allSatisfy(n -> assertThat(n.get()).isEqualTo(1));
                assertThat(received.get("/plain").count.values())
                        .allSatisfy(n -> assertThat(n.get()).isEqualTo(1));
                for (JsonNode event : enriched.events) {
                    assertThat(event.path("properties").path("tier").asText())
                            .isEqualTo("tier-" + event.path("userId").asText());
                }
                Map<String, Integer> lastSeq = new ConcurrentHashMap<>();
                for (JsonNode event : enriched.events) {
                    String user = event.path("userId").asText();
                    int seq = event.path("properties").path("seq").asInt();
                    assertThat(seq).as("order of " + user).isGreaterThan(lastSeq.getOrDefault(user, -1));
                    lastSeq.put(user, seq);
                }
                assertThat(count(queue, "SELECT count(*) FROM dead_letters")).isZero();
                assertThat(sluice.registry()
                                .get("sluice.function.fetch.calls")
                                .tag("sync", "enriched")
                                .tag("outcome", "failed")
                                .counter()
                                .count())
                        .isPositive();
            }
        } finally {
            receiver.stop(0);
        }
    }

    private void send(Sluice sluice, String phase, int events) {
        for (int request = 0; request < events / 20; request++) {
            StringBuilder body = new StringBuilder("{\"batch\":[");
            for (int i = 0; i < 20; i++) {
                String user = "u" + (i % USERS);
                int seq = nextSeq.merge(user, 1, Integer::sum);
                String messageId = phase + "-" + request + "-" + i;
                sent.add(messageId);
                body.append(i == 0 ? "" : ",")
                        .append("{\"type\":\"track\",\"event\":\"Viewed\",\"userId\":\"")
                        .append(user)
                        .append("\",\"messageId\":\"")
                        .append(messageId)
                        .append("\",\"properties\":{\"seq\":")
                        .append(seq)
                        .append("}}");
            }
            var response = post(
                    sluice.collectorUrl() + "/v1/batch",
                    body.append("]}").toString(),
                    "Authorization",
                    basic("wk_fetch"));
            assertThat(response.statusCode()).isEqualTo(200);
        }
    }

    private void awaitDelivered(String path, int events, Duration within) {
        await().atMost(within).until(() -> received.get(path).count.size() >= events);
    }

    private void receive(HttpExchange exchange) throws IOException {
        try (exchange) {
            JsonNode event = JSON.readTree(exchange.getRequestBody().readAllBytes());
            Received into = received.get(exchange.getRequestURI().getPath());
            into.events.add(event);
            into.count
                    .computeIfAbsent(event.path("messageId").asText(), k -> new AtomicInteger())
                    .incrementAndGet();
            exchange.sendResponseHeaders(200, -1);
        }
    }

    private static double waits(Sluice sluice) {
        var counter = sluice.registry()
                .find("sluice.function.dependency.waits")
                .tag("sync", "enriched")
                .counter();
        return counter == null ? 0 : counter.count();
    }

    /** Rows inserted and updated per queue table, as the server counts them. */
    private static Map<String, Long> tableStats(Connection queue) throws Exception {
        Map<String, Long> stats = new ConcurrentHashMap<>();
        try (Statement s = queue.createStatement();
                ResultSet rs = s.executeQuery("SELECT relname, n_tup_ins, n_tup_upd FROM pg_stat_user_tables"
                        + " WHERE relname IN ('batches', 'retry_events', 'dead_letters')")) {
            while (rs.next()) {
                stats.put(rs.getString(1) + ".ins", rs.getLong(2));
                stats.put(rs.getString(1) + ".upd", rs.getLong(3));
            }
        }
        try (Statement s = queue.createStatement();
                ResultSet rs =
                        s.executeQuery("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")) {
            rs.next();
            stats.put("xact_commit", rs.getLong(1));
        }
        return stats;
    }

    private static long count(Connection queue, String sql) throws Exception {
        try (Statement s = queue.createStatement();
                ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
