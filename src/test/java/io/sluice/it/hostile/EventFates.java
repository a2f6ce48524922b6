package io.sluice.it.hostile;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.it.hostile.HostileEvents.Generated;
import io.sluice.support.CommittedMirror;
import io.sluice.support.Http;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.core.ConditionTimeoutException;

/**
 * The fate of each accepted hostile event at each destination: delivered once and equal to what was accepted (minus
 * the collector's enrichment), or a dead letter with a reason (admin API); and whether the users' ordinary follow-up
 * events arrived. Problems are named by class: LOST, ALTERED, DUPLICATED, DEAD WITHOUT REASON, BLOCKED.
 */
final class EventFates {
    private final long seed;
    private final Map<String, String> syncs;
    private final BodyReceiver hook;
    private final CommittedMirror mirror;
    private final String warehouseUrl;
    private final String adminUrl;
    private final String token;
    private final List<Generated> accepted = new ArrayList<>();
    private final Map<Generated, String> refused = new LinkedHashMap<>();

    EventFates(
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
        JsonNode expected = parse(g.event().toString().getBytes(StandardCharsets.UTF_8));
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
            statement.setString(1, warehouseId(g.messageId()));
            try (var rs = statement.executeQuery()) {
                rs.next();
                return rs.getLong(1) > 0;
            }
        } catch (Exception e) {
            return false; // no such table yet, or an id PostgreSQL cannot take as text
        }
    }

    /**
     * The warehouse's {@code id} for a messageId as docs/warehouse.md states it: the messageId, unless it is longer
     * than 512 UTF-8 bytes, holds U+0000 or an unpaired surrogate, or starts with {@code sha256:} — then
     * {@code sha256:} + the hex SHA-256 of its UTF-16 code units (big-endian).
     */
    static String warehouseId(String messageId) throws Exception {
        boolean hash = messageId.startsWith("sha256:")
                || messageId.indexOf('\0') >= 0
                || messageId.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > 512
                || !java.nio.charset.StandardCharsets.UTF_8.newEncoder().canEncode(messageId);
        if (!hash) return messageId;
        byte[] digest = java.security.MessageDigest.getInstance("SHA-256")
                .digest(messageId.getBytes(java.nio.charset.StandardCharsets.UTF_16BE));
        return "sha256:" + java.util.HexFormat.of().formatHex(digest);
    }

    /** The sync's dead letters by messageId, through the admin API: messageId → error. */
    private Map<String, String> deadLetters(String sync) throws Exception {
        var response = Http.request(
                "GET", adminUrl + "/admin/dlq?sync=" + sync + "&limit=1000", "Authorization", "Bearer " + token);
        Map<String, String> letters = new HashMap<>();
        if (response.statusCode() != 200) return letters;
        for (JsonNode letter : MAPPER.readTree(response.body())) {
            letters.put(letter.path("messageId").asText(), letter.path("error").asText(""));
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

    private static final ObjectMapper MAPPER = new ObjectMapper();
}
