package io.sluice.destination.postgres;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.destination.postgres.Identifiers.Payload;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Maps enriched events (docs/record-format.md) to rows of Segment's warehouse tables (docs/warehouse.md,
 * "Tables and columns"). Pure: no I/O.
 */
final class EventMapper {
    /** Top-level fields that are routing or SDK metadata, not event data. */
    private static final Set<String> SKIPPED = Set.of("type", "sourceId", "writeKey", "integrations", "_metadata");
    /** Top-level fields every table has columns for. */
    private static final Set<String> COMMON = Set.of(
            "messageId", "receivedAt", "sentAt", "timestamp", "originalTimestamp", "userId", "anonymousId", "context");
    /** Per type, the fields it has columns for (or, for a track's properties, its own table); others are extra columns. */
    private static final Map<String, Set<String>> CONSUMED = Map.of(
            "track", Set.of("event", "properties"),
            "identify", Set.of("traits"),
            "page", Set.of("name", "category", "properties"),
            "screen", Set.of("name", "category", "properties"),
            "group", Set.of("groupId", "traits"),
            "alias", Set.of("previousId"));

    private static final int NAME_CACHE_LIMIT = 100_000;
    private static final Map<String, String> NAMES = new ConcurrentHashMap<>();

    private EventMapper() {}

    /** The rows of a batch by table name, sorted by name so every worker touches tables in the same order. */
    static SortedMap<String, TableRows> map(List<ObjectNode> events) {
        SortedMap<String, TableRows> tables = new TreeMap<>();
        Map<String, UserState> users = new LinkedHashMap<>();
        for (ObjectNode event : events) {
            String type = event.path("type").asText("");
            Set<String> consumed = CONSUMED.get(type);
            if (consumed == null)
                throw new IllegalArgumentException("unknown event type '" + type + "'"); // never from the collector
            switch (type) {
                case "track" -> track(event, consumed, tables);
                case "identify" -> {
                    table(tables, "identifies").add(row(event, base(event), "traits", consumed));
                    JsonNode userId = event.get("userId");
                    if (userId != null && !userId.isNull()) {
                        users.computeIfAbsent(Value.asText(userId).text(), UserState::new)
                                .apply(event, traits(event.get("traits")));
                    }
                }
                case "page" -> table(tables, "pages").add(named(event, consumed));
                case "screen" -> table(tables, "screens").add(named(event, consumed));
                case "group" ->
                    table(tables, "groups")
                            .add(with(
                                    row(event, base(event), "traits", consumed),
                                    "group_id",
                                    Value.asText(event.get("groupId"))));
                default ->
                    table(tables, "aliases")
                            .add(with(
                                    row(event, base(event), null, consumed),
                                    "previous_id",
                                    Value.asText(event.get("previousId"))));
            }
        }
        if (!users.isEmpty()) {
            TableRows rows = new TableRows("users", true);
            for (UserState user : users.values()) user.addTo(rows);
            tables.put(rows.table, rows);
        }
        return tables;
    }

    private static void track(ObjectNode event, Set<String> consumed, Map<String, TableRows> tables) {
        String eventText = event.path("event").asText("");
        Map<String, Value> base = base(event);
        Map<String, Value> common = row(event, new LinkedHashMap<>(base), null, consumed);
        if (eventText.isEmpty()) {
            table(tables, "tracks").add(common);
            return;
        }
        String eventTable = NAMES.computeIfAbsent("t\u001e" + eventText, k -> Identifiers.eventTable(eventText));
        common.put("event", Value.text(eventTable));
        common.put("event_text", Value.asText(event.get("event")));
        table(tables, "tracks").add(common);
        Map<String, Value> own = row(event, base, "properties", consumed);
        own.put("event", Value.text(eventTable));
        own.put("event_text", Value.asText(event.get("event")));
        table(tables, eventTable).add(own);
    }

    private static Map<String, Value> named(ObjectNode event, Set<String> consumed) {
        Map<String, Value> row = row(event, base(event), "properties", consumed);
        with(row, "name", Value.asText(event.get("name")));
        return with(row, "category", Value.asText(event.get("category")));
    }

    /** The columns every event table shares: the fixed fields and context_*. */
    private static Map<String, Value> base(ObjectNode event) {
        Map<String, Value> row = new LinkedHashMap<>();
        Value id = Value.asText(event.get("messageId"));
        row.put("id", id != null ? id : Value.text("sluice-" + sha256(event.toString())));
        with(row, "received_at", Value.of(event.get("receivedAt")));
        with(row, "sent_at", Value.of(event.get("sentAt")));
        with(row, "timestamp", Value.of(event.get("timestamp")));
        with(row, "original_timestamp", Value.of(event.get("originalTimestamp")));
        with(row, "user_id", Value.asText(event.get("userId")));
        with(row, "anonymous_id", Value.asText(event.get("anonymousId")));
        JsonNode context = event.get("context");
        if (context != null && context.isObject()) flatten(context, null, new ArrayList<>(), row);
        return row;
    }

    /**
     * Adds to {@code row} (the event's base columns) the unprefixed payload — properties or traits, when
     * {@code payloadField} is given — then every top-level field neither common nor {@code consumed} by the type.
     */
    private static Map<String, Value> row(
            ObjectNode event, Map<String, Value> row, String payloadField, Set<String> consumed) {
        if (payloadField != null) {
            JsonNode payload = event.get(payloadField);
            Payload kind = payloadField.equals("traits") ? Payload.TRAITS : Payload.PROPERTIES;
            if (payload != null && payload.isObject()) flatten(payload, kind, new ArrayList<>(), row);
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = event.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            String key = field.getKey();
            if (SKIPPED.contains(key) || COMMON.contains(key) || consumed.contains(key)) continue;
            List<String> path = new ArrayList<>(List.of(key));
            if (field.getValue().isObject()) flatten(field.getValue(), Payload.FIELDS, path, row);
            else put(row, Payload.FIELDS, path, Value.of(field.getValue()));
        }
        return row;
    }

    /** Traits as unprefixed columns (for users). */
    private static Map<String, Value> traits(JsonNode traits) {
        Map<String, Value> row = new LinkedHashMap<>();
        if (traits != null && traits.isObject()) flatten(traits, Payload.TRAITS, new ArrayList<>(), row);
        return row;
    }

    /**
     * Nested objects become columns joined by '_'; arrays are JSON text; nulls and empty objects add nothing.
     * {@code payload} null means context ({@code context_} prefix).
     */
    private static void flatten(JsonNode object, Payload payload, List<String> path, Map<String, Value> row) {
        for (Iterator<Map.Entry<String, JsonNode>> it = object.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            path.add(field.getKey());
            if (field.getValue().isObject()) flatten(field.getValue(), payload, path, row);
            else put(row, payload, path, Value.of(field.getValue()));
            path.removeLast();
        }
    }

    private static void put(Map<String, Value> row, Payload payload, List<String> path, Value value) {
        if (value == null) return;
        String prefix = payload == null ? "context" : payload.name();
        String key = (payload == null ? "c" : payload.tag)
                + (path.size() == 1 ? path.getFirst() : String.join("\u001f", path));
        if (NAMES.size() > NAME_CACHE_LIMIT) NAMES.clear();
        String column = NAMES.computeIfAbsent(
                key,
                k -> payload == null
                        ? Identifiers.prefixedColumn("context", path)
                        : Identifiers.payloadColumn(payload, path));
        if (row.containsKey(column)) {
            // two values of one event met in one name ({"a":{"b":1}} and {"a_b":2}, or a property named like an
            // extra field): the later one gets a name of its own instead of overwriting
            column = Identifiers.disambiguated(column, prefix, path);
        }
        row.putIfAbsent(column, value);
    }

    private static Map<String, Value> with(Map<String, Value> row, String column, Value value) {
        if (value != null) row.put(column, value);
        return row;
    }

    private static TableRows table(Map<String, TableRows> tables, String name) {
        return tables.computeIfAbsent(name, n -> new TableRows(n, false));
    }

    static String sha256(String text) {
        try {
            return HexFormat.of()
                    .formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** One user's traits merged from the batch's identifies: per column, the value of the newest identify. */
    private static final class UserState {
        final String id;
        Instant latest;
        Value receivedAt;
        final Map<String, Value> values = new LinkedHashMap<>();
        final Map<String, Instant> times = new LinkedHashMap<>();

        UserState(String id) {
            this.id = id;
        }

        void apply(ObjectNode event, Map<String, Value> traits) {
            Instant at = eventTime(event);
            if (latest == null || !at.isBefore(latest)) {
                latest = at;
                receivedAt = Value.of(event.get("receivedAt"));
            }
            for (Map.Entry<String, Value> trait : traits.entrySet()) {
                Instant known = times.get(trait.getKey());
                if (known == null || !at.isBefore(known)) {
                    values.put(trait.getKey(), trait.getValue());
                    times.put(trait.getKey(), at);
                }
            }
        }

        void addTo(TableRows rows) {
            Map<String, Value> row = new LinkedHashMap<>();
            row.put("id", Value.text(id));
            with(row, "received_at", receivedAt);
            row.put("timestamp", Value.timestamp(latest));
            row.putAll(values);
            rows.add(row, times);
        }

        private static Instant eventTime(ObjectNode event) {
            for (String field : new String[] {"timestamp", "receivedAt"}) {
                Instant at = Value.parseTimestamp(event.path(field).asText(""));
                if (at != null) return at;
            }
            return Instant.EPOCH;
        }
    }
}
