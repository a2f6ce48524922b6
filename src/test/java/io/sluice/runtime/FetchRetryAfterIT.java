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
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An enrichment service that answers 429 with {@code Retry-After: 3} for a while, then 200: the enriched sync's batch
 * is given up for it and comes back no earlier than the end of the pause (its backoff, 200 ms to 1 s, would be
 * sooner), the waits use none of the batch's attempts, nothing is dead-lettered, and every event arrives once,
 * enriched, in per-user order at a receiver that dedupes nothing. One partition and one call at a time, so the batch
 * attempts are sequential and each wait follows exactly one 429.
 */
class FetchRetryAfterIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int USERS = 10;
    private static final int EVENTS = 100;
    private static final Duration RETRY_AFTER = Duration.ofSeconds(3);
    private static final int THROTTLED = 3;

    @TempDir
    Path dir;

    private final List<JsonNode> received = new CopyOnWriteArrayList<>();
    private final Map<String, AtomicInteger> count = new ConcurrentHashMap<>();
    private final List<Instant> waits = new CopyOnWriteArrayList<>();
    private volatile Instant firstArrival;

    @Test
    void aBatchHeldByRetryAfterComesBackNoEarlierThanItsEndWithoutUsingAttempts() throws Exception {
        HttpServer receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 200);
        receiver.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        receiver.createContext("/", this::receive);
        receiver.start();
        Files.writeString(dir.resolve("enrich.js"), """
                async function transform(event, context) {
                  const r = await fetch(context.settings.base + '/users/' + encodeURIComponent(event.userId));
                  if (!r.ok) throw new Error('enrichment answered ' + r.status);
                  event.properties.tier = (await r.json()).tier;
                  return event;
                }
                """);
        String id = UUID.randomUUID().toString();
        String queueUrl = TestPostgres.createDatabase("fetch_ra");
        ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
        try (EnrichmentServer service = new EnrichmentServer()) {
            Path config = dir.resolve("sluice.yaml");
            Files.writeString(config, """
                    kafka: {bootstrapServers: "%s", eventsTopic: fetch-ra-%s, partitions: 1, controlTopic: control-%s}
                    postgres: {url: "%s", user: sluice}
                    collector: {host: 127.0.0.1, port: 0}
                    admin: {host: 127.0.0.1, port: 0}
                    sources: [{id: web, writeKey: wk_ra}]
                    destinations:
                      - {id: hooks, type: webhook, url: "http://127.0.0.1:%d/enriched", retry: {base: 200ms, cap: 1s, maxAttempts: 3}}
                    syncs:
                      - id: enriched
                        source: web
                        destination: hooks
                        function: enrich.js
                        settings: {base: "%s"}
                        fetch: {allowHosts: ["127.0.0.1:%d"], timeout: 5s, batchTimeout: 20s, concurrency: 1}
                        batch: {maxEvents: 50, maxAge: 200ms}
                    functions: {timeout: 10s}
                    planner: {groupId: fetch-ra-%s}
                    worker: {pollInterval: 50ms}
                    """.formatted(
                            TestKafka.bootstrapServers(),
                            id,
                            id,
                            queueUrl,
                            receiver.getAddress().getPort(),
                            service.url(""),
                            service.port(),
                            id));
            // the first 3 calls are throttled: the batch meets a 429 in three attempts in a row. One call at a time
            // (fetch.concurrency 1), so no call of an attempt is still out when the attempt is given up.
            service.throttleFirst(THROTTLED, (int) RETRY_AFTER.toSeconds());
            try (Sluice sluice = new Sluice(
                            new ConfigLoader(Map.of()).load(config),
                            EnumSet.allOf(Sluice.Role.class),
                            false,
                            Clock.systemUTC());
                    Connection queue = DriverManager.getConnection(queueUrl, "sluice", "")) {
                sluice.start();
                double[] last = {0};
                sampler.scheduleAtFixedRate(
                        () -> {
                            double now = waits(sluice);
                            for (; last[0] < now; last[0]++) waits.add(Instant.now());
                        },
                        0,
                        20,
                        TimeUnit.MILLISECONDS);
                List<String> sent = send(sluice);

                await().atMost(Duration.ofSeconds(120)).until(() -> count.size() >= EVENTS);
                List<Instant> throttled = service.throttledAt();
                assertThat(throttled).as("429 answers").hasSize(THROTTLED);
                assertThat(waits)
                        .as("one batch wait per 429: no attempt came back during a pause to fail at once")
                        .hasSize(THROTTLED);
                // every wait after the first comes from an attempt made once the previous wait's pause was over
                for (int i = 1; i < waits.size(); i++) {
                    Instant previous = waits.get(i - 1);
                    Instant lastThrottleBefore = throttled.stream()
                            .filter(t -> !t.isAfter(previous))
                            .max(Instant::compareTo)
                            .orElseThrow();
                    assertThat(waits.get(i))
                            .as(
                                    "wait %d: its attempt came before the Retry-After of %s ended",
                                    i + 1, lastThrottleBefore)
                            .isAfterOrEqualTo(lastThrottleBefore.plus(RETRY_AFTER));
                }
                assertThat(firstArrival)
                        .as("nothing delivered before the first Retry-After ended")
                        .isAfterOrEqualTo(throttled.getFirst().plus(RETRY_AFTER));

                // every event once, enriched, in per-user order; no dead letter; no attempt used by the waits
                assertThat(count.keySet()).containsExactlyInAnyOrderElementsOf(sent);
                assertThat(count.values()).allSatisfy(n -> assertThat(n.get()).isEqualTo(1));
                Map<String, Integer> lastSeq = new ConcurrentHashMap<>();
                for (JsonNode event : received) {
                    String user = event.path("userId").asText();
                    assertThat(event.path("properties").path("tier").asText()).isEqualTo("tier-" + user);
                    int seq = event.path("properties").path("seq").asInt();
                    assertThat(seq).as("order of " + user).isGreaterThan(lastSeq.getOrDefault(user, -1));
                    lastSeq.put(user, seq);
                }
                assertThat(count(queue, "SELECT count(*) FROM dead_letters")).isZero();
                assertThat(count(queue, "SELECT count(*) FROM retry_events")).isZero();
                assertThat(count(queue, "SELECT coalesce(max(attempts), 0) FROM batches WHERE sync_id = 'enriched'"))
                        .as("the waits for Retry-After use no attempt (maxAttempts is 3)")
                        .isLessThanOrEqualTo(1);
            }
        } finally {
            sampler.shutdownNow();
            receiver.stop(0);
        }
    }

    private List<String> send(Sluice sluice) {
        List<String> sent = new ArrayList<>();
        int[] seq = new int[USERS];
        for (int request = 0; request < EVENTS / 20; request++) {
            StringBuilder body = new StringBuilder("{\"batch\":[");
            for (int i = 0; i < 20; i++) {
                int user = i % USERS;
                String messageId = "ra-" + request + "-" + i;
                sent.add(messageId);
                body.append(i == 0 ? "" : ",")
                        .append("{\"type\":\"track\",\"event\":\"Viewed\",\"userId\":\"u")
                        .append(user)
                        .append("\",\"messageId\":\"")
                        .append(messageId)
                        .append("\",\"properties\":{\"seq\":")
                        .append(seq[user]++)
                        .append("}}");
            }
            var response = post(
                    sluice.collectorUrl() + "/v1/batch", body.append("]}").toString(), "Authorization", basic("wk_ra"));
            assertThat(response.statusCode()).isEqualTo(200);
        }
        return sent;
    }

    private void receive(HttpExchange exchange) throws IOException {
        try (exchange) {
            JsonNode event = JSON.readTree(exchange.getRequestBody().readAllBytes());
            if (received.isEmpty()) firstArrival = Instant.now();
            received.add(event);
            count.computeIfAbsent(event.path("messageId").asText(), k -> new AtomicInteger())
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

    private static long count(Connection queue, String sql) throws Exception {
        try (Statement s = queue.createStatement();
                ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
