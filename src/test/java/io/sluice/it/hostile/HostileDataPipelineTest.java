package io.sluice.it.hostile;

import static io.sluice.support.Http.basic;
import static io.sluice.support.Http.post;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.config.ConfigLoader;
import io.sluice.it.hostile.HostileEvents.Generated;
import io.sluice.runtime.Sluice;
import io.sluice.support.CommittedMirror;
import io.sluice.support.Http;
import io.sluice.support.TestEvents;
import io.sluice.support.TestKafka;
import io.sluice.support.TestPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 22's generated hostile-data suite: seeded valid-but-odd Segment events ({@link HostileEvents}) sent through the
 * real pipeline (collector over HTTP → Kafka → planner → worker) to a real PostgreSQL warehouse, a webhook receiver
 * that dedupes nothing and a Kafka destination read by a read_committed consumer. Every accepted event must have one
 * visible fate at each destination: delivered once, byte for byte as accepted (minus the collector's documented
 * enrichment), or a dead letter with a reason; and an ordinary event of the same user sent afterwards must arrive
 * within seconds. Every failing event is reported with its class and the seed ({@code -Dhostile.seed=N} repeats a run).
 *
 * <p>Not in the default run yet ({@code -Dhostile.enabled=true} runs it): it fails until the fixes of issue 22's other
 * classes (warehouse names, byte-exact dead letters, header encoding, poison isolation) are merged.
 */
@EnabledIfSystemProperty(named = "hostile.enabled", matches = "true")
class HostileDataPipelineTest {
    static final int EVENTS = 160;
    static final Duration SETTLE = Duration.ofSeconds(75);
    static final Duration FOLLOW_UP = Duration.ofSeconds(30);
    static final ObjectMapper MAPPER = new ObjectMapper();
    static final String TOKEN = "hostile-admin-token";

    @TempDir
    Path dir;

    @Test
    void everyAcceptedHostileEventHasExactlyOneVisibleFateAndNeverBlocksItsUser() throws Exception {
        long seed = Long.getLong("hostile.seed", new java.util.Random().nextLong());
        String run = UUID.randomUUID().toString().substring(0, 8);
        String warehouseUrl = TestPostgres.createDatabase("hostile_wh");
        String mirrorTopic = TestEvents.createTopic("hostile-mirror", 2);
        Path config = dir.resolve("sluice.yaml");
        try (BodyReceiver hook = new BodyReceiver()) {
            Files.writeString(config, """
                    kafka: {bootstrapServers: "%s", eventsTopic: hostile-%s, partitions: 3, controlTopic: hostile-control-%s}
                    postgres: {url: "%s", user: sluice}
                    collector: {host: 127.0.0.1, port: 0}
                    admin: {host: 127.0.0.1, port: 0, token: %s}
                    sources: [{id: web, writeKey: wk_hostile}]
                    destinations:
                      - {id: warehouse, type: postgres, url: "%s", user: sluice}
                      - {id: hook, type: webhook, url: "%s", timeout: 2s, retry: {base: 200ms, cap: 1s, maxAttempts: 3, maxAge: 20s}}
                      - {id: mirror, type: kafka, bootstrapServers: "%s", topic: %s, markerTopic: hostile-markers-%s,
                         retry: {base: 200ms, cap: 1s, maxAttempts: 3, maxAge: 20s}}
                    syncs:
                      - {id: h-wh-%s, source: web, destination: warehouse, batch: {maxEvents: 50, maxAge: 200ms}}
                      - {id: h-hook-%s, source: web, destination: hook, batch: {maxEvents: 50, maxAge: 200ms}}
                      - {id: h-mirror-%s, source: web, destination: mirror, batch: {maxEvents: 50, maxAge: 200ms}}
                    planner: {groupId: hostile-%s}
                    worker: {concurrency: 2, pollInterval: 50ms, retryBase: 200ms, retryCap: 1s, maxAttempts: 3, maxRetryAge: 20s}
                    """.formatted(
                            TestKafka.bootstrapServers(),
                            run,
                            run,
                            TestPostgres.createDatabase("hostile_q"),
                            TOKEN,
                            warehouseUrl,
                            hook.url(),
                            TestKafka.bootstrapServers(),
                            mirrorTopic,
                            run,
                            run,
                            run,
                            run,
                            run));
            Map<String, String> syncs =
                    Map.of("warehouse", "h-wh-" + run, "webhook", "h-hook-" + run, "kafka", "h-mirror-" + run);
            List<Generated> events = new HostileEvents(seed, run).generate(EVENTS);
            try (Sluice sluice = new Sluice(
                            new ConfigLoader(Map.of()).load(config),
                            EnumSet.allOf(Sluice.Role.class),
                            false,
                            Clock.systemUTC());
                    CommittedMirror mirror = CommittedMirror.start(TestKafka.bootstrapServers(), mirrorTopic)) {
                sluice.start();
                Fates fates = new Fates(seed, syncs, hook, mirror, warehouseUrl, sluice.adminUrl(), TOKEN);
                for (Generated g : events) {
                    var response = send(sluice, g.event());
                    if (response.statusCode() == 200) fates.accepted(g);
                    else fates.refused(g, response.statusCode() + " " + response.body());
                }
                // an ordinary event of every user that got hostile ones, sent right after them
                Map<String, Generated> followUps = new LinkedHashMap<>();
                for (String user :
                        new LinkedHashSet<>(events.stream().map(Generated::user).toList())) {
                    ObjectNode ordinary = MAPPER.createObjectNode()
                            .put("type", "track")
                            .put("event", "Ordinary Follow Up")
                            .put("messageId", "follow-" + run + "-" + followUps.size());
                    if (user.startsWith("anon-")) ordinary.put("anonymousId", user);
                    else ordinary.put("userId", user);
                    var response = send(sluice, ordinary);
                    assertThat(response.statusCode())
                            .as("seed %d: follow-up accepted", seed)
                            .isEqualTo(200);
                    followUps.put(user, new Generated(ordinary, user, null, "follow-up"));
                }
                List<String> blocked = fates.awaitFollowUps(followUps, FOLLOW_UP);
                List<String> problems = new ArrayList<>(blocked);
                problems.addAll(fates.awaitSettled(SETTLE));
                System.out.println(fates.summary());
                assertThat(problems)
                        .as(
                                "seed %d (-Dhostile.seed=%d repeats it): %d accepted, %d refused by the collector;"
                                        + " every problem by class:%n%s",
                                seed, seed, fates.acceptedCount(), fates.refusedCount(), String.join("\n", problems))
                        .isEmpty();
            }
        }
    }

    private static java.net.http.HttpResponse<String> send(Sluice sluice, ObjectNode event) {
        try {
            String body = "{\"batch\":[" + MAPPER.writeValueAsString(event) + "]}";
            return post(sluice.collectorUrl() + "/v1/batch", body, "Authorization", basic("wk_hostile"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Tells each accepted event's fate at each destination. */
    static final class Fates {
        private final long seed;
        private final Map<String, String> syncs;
        private final BodyReceiver hook;
        private final CommittedMirror mirror;
        private final String warehouseUrl;
        private final String adminUrl;
        private final String token;
        private final List<Generated> accepted = new ArrayList<>();
        private final Map<Generated, String> refused = new LinkedHashMap<>();

        Fates(
                long seed,
                Map<String, String> syncs,
                BodyReceiver hook,
                CommittedMirror mirror,
                String warehouseUrl,
                String adminUrl,
                String token) {
            this.seed = seed;
            this.syncs = syncs;
            this.hook = hook;
            this.mirror = mirror;
            this.warehouseUrl = warehouseUrl;
            this.adminUrl = adminUrl;
            this.token = token;
        }

        void accepted(Generated g) {
            accepted.add(g);
        }

        void refused(Generated g, String why) {
            refused.put(g, why);
        }

        int acceptedCount() {
            return accepted.size();
        }

        int refusedCount() {
            return refused.size();
        }

        String summary() {
            StringBuilder out = new StringBuilder("hostile suite, seed " + seed + ": " + accepted.size() + " accepted, "
                    + refused.size() + " refused by the collector");
            refused.forEach((g, why) -> out.append("\n  refused ")
                    .append(g.shape())
                    .append(' ')
                    .append(g.detail())
                    .append(": ")
                    .append(why.length() > 200 ? why.substring(0, 200) : why));
            return out.toString();
        }

        /** Problems of the follow-ups still missing at the webhook or the mirror after {@code within}. */
        List<String> awaitFollowUps(Map<String, Generated> followUps, Duration within) {
            return awaitNone(within, Duration.ofMillis(300), () -> {
                Map<String, List<JsonNode>> atHook = received(hook.bodies());
                Map<String, List<JsonNode>> atMirror =
                        received(mirror.records().stream().map(r -> r.value()).toList());
                List<String> missing = new ArrayList<>();
                for (Generated f : followUps.values()) {
                    if (!atHook.containsKey(f.messageId()))
                        missing.add("BLOCKED webhook: user " + HostileEvents.quote(f.user())
                                + "'s ordinary event sent after the hostile ones did not arrive within " + within);
                    if (!atMirror.containsKey(f.messageId()))
                        missing.add("BLOCKED kafka: user " + HostileEvents.quote(f.user())
                                + "'s ordinary event sent after the hostile ones did not arrive within " + within);
                }
                return missing;
            });
        }

        /** Waits until every accepted event has a fate everywhere (or {@code within} passed); the problems left. */
        List<String> awaitSettled(Duration within) {
            return awaitNone(within, Duration.ofMillis(500), this::problems);
        }

        /** Polls {@code check} until it finds nothing or {@code within} passed; what it found last. */
        private static List<String> awaitNone(Duration within, Duration poll, Callable<List<String>> check) {
            AtomicReference<List<String>> last = new AtomicReference<>(List.of("not checked yet"));
            try {
                await().atMost(within).pollInterval(poll).until(() -> {
                    last.set(check.call());
                    return last.get().isEmpty();
                });
            } catch (ConditionTimeoutException e) {
                // reported below, event by event
            }
            return last.get();
        }

        private List<String> problems() throws Exception {
            Map<String, List<JsonNode>> atHook = received(hook.bodies());
            Map<String, List<JsonNode>> atMirror =
                    received(mirror.records().stream().map(r -> r.value()).toList());
            Map<String, Map<String, String>> dead = new HashMap<>();
            for (var sync : syncs.entrySet()) dead.put(sync.getKey(), deadLetters(sync.getValue()));
            List<String> problems = new ArrayList<>();
            try (Connection warehouse = DriverManager.getConnection(warehouseUrl, "sluice", "")) {
                for (Generated g : accepted) {
                    String id = g.messageId();
                    String what = g.shape() + " " + g.detail() + " messageId " + shortQuote(id);
                    check(
                            problems,
                            "webhook",
                            what,
                            g,
                            atHook.get(id),
                            dead.get("webhook").get(id));
                    check(
                            problems,
                            "kafka",
                            what,
                            g,
                            atMirror.get(id),
                            dead.get("kafka").get(id));
                    String deadReason = dead.get("warehouse").get(id);
                    if (!inWarehouse(warehouse, g)) {
                        if (deadReason == null) problems.add("LOST warehouse: " + what);
                        else if (deadReason.isBlank()) problems.add("DEAD WITHOUT REASON warehouse: " + what);
                    }
                }
            }
            return problems;
        }

        private void check(
                List<String> problems,
                String destination,
                String what,
                Generated g,
                List<JsonNode> got,
                String deadReason) {
            if (got == null || got.isEmpty()) {
                if (deadReason == null) problems.add("LOST " + destination + ": " + what);
                else if (deadReason.isBlank()) problems.add("DEAD WITHOUT REASON " + destination + ": " + what);
                return;
            }
            if (got.size() > 1) problems.add("DUPLICATED " + destination + " (" + got.size() + "x): " + what);
            JsonNode expected = parse(g.event().toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            JsonNode actual = withoutEnrichment(got.getFirst(), g.event());
            if (!expected.equals(actual)) {
                problems.add("ALTERED " + destination + ": " + what + "\n    sent     " + cut(expected.toString())
                        + "\n    received " + cut(actual.toString()));
            }
        }

        /** The received event without what the collector adds (docs/record-format.md). */
        private static JsonNode withoutEnrichment(JsonNode received, ObjectNode sent) {
            ObjectNode copy = received.deepCopy();
            for (String field : List.of("receivedAt", "sentAt", "timestamp", "originalTimestamp", "sourceId")) {
                if (!sent.has(field)) copy.remove(field);
            }
            if (!sent.has("context") && copy.path("context").isObject()) {
                ObjectNode context = (ObjectNode) copy.get("context");
                context.remove("ip");
                if (context.isEmpty()) copy.remove("context");
            }
            return copy;
        }

        private static boolean inWarehouse(Connection warehouse, Generated g) {
            String table = switch (g.event().get("type").asText()) {
                case "identify" -> "identifies";
                case "page" -> "pages";
                default -> "tracks";
            };
            try (PreparedStatement statement =
                    warehouse.prepareStatement("SELECT count(*) FROM web." + table + " WHERE id = ?")) {
                statement.setString(1, g.messageId());
                try (var rs = statement.executeQuery()) {
                    rs.next();
                    return rs.getLong(1) > 0;
                }
            } catch (Exception e) {
                return false; // no such table yet, or an id PostgreSQL cannot take as text
            }
        }

        /** The sync's dead letters by messageId, through the admin API: messageId → error. */
        private Map<String, String> deadLetters(String sync) throws Exception {
            var response = Http.request(
                    "GET", adminUrl + "/admin/dlq?sync=" + sync + "&limit=1000", "Authorization", "Bearer " + token);
            Map<String, String> letters = new HashMap<>();
            if (response.statusCode() != 200) return letters;
            for (JsonNode letter : MAPPER.readTree(response.body())) {
                letters.put(
                        letter.path("messageId").asText(), letter.path("error").asText(""));
            }
            return letters;
        }

        private static Map<String, List<JsonNode>> received(List<byte[]> bodies) {
            Map<String, List<JsonNode>> byId = new HashMap<>();
            for (byte[] body : bodies) {
                JsonNode node = parse(body);
                List<JsonNode> events = new ArrayList<>();
                if (node.isArray()) node.forEach(events::add);
                else events.add(node);
                for (JsonNode event : events) {
                    byId.computeIfAbsent(event.path("messageId").asText(), k -> new ArrayList<>())
                            .add(event);
                }
            }
            return byId;
        }

        private static JsonNode parse(byte[] json) {
            try {
                return MAPPER.readTree(json);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        private static String shortQuote(String id) {
            return HostileEvents.quote(id.length() > 80 ? id.substring(0, 80) + "…(" + id.length() + " chars)" : id);
        }

        private static String cut(String text) {
            return text.length() > 300 ? text.substring(0, 300) + "…" : text;
        }
    }
}
