package io.sluice.destination.postgres;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.destination.postgres.Identifiers.NameKind;
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

    private EventMapper() {}

    /** The batch as rows by table name (sorted: every worker touches tables in the same order), and its rejects. */
    record Mapped(SortedMap<String, TableRows> tables, List<Rejected> rejected) {}

    /** An event that has no place in the warehouse, and why. */
    record Rejected(ObjectNode event, String reason) {}

    static Mapped map(List<ObjectNode> events) {
        SortedMap<String, TableRows> tables = new TreeMap<>();
        Map<String, UserState> users = new LinkedHashMap<>();
        List<Rejected> rejected = new ArrayList<>();
        for (ObjectNode event : events) {
            String type = event.path("type").asText("");
            Set<String> consumed = CONSUMED.get(type);
            if (consumed == null) {
                rejected.add(new Rejected(event, "unknown event type '" + Overflow.storable(type) + "'"));
                continue;
            }
            Map<String, List<Map<String, Value>>> rows = new LinkedHashMap<>();
            try {
                rows(event, type, consumed, rows);
            } catch (RuntimeException e) {
                rejected.add(new Rejected(event, "cannot be mapped to warehouse rows: " + e));
                continue;
            }
            if (StoredIds.hasNul(event)) {
                Value raw = Value.text(StoredIds.rawJson(event));
                for (List<Map<String, Value>> tableRows : rows.values())
                    for (Map<String, Value> row : tableRows) row.put(StoredIds.RAW_COLUMN, raw);
            }
            rows.forEach(
                    (table, list) -> list.forEach(row -> table(tables, table).add(row)));
            String userId = type.equals("identify") ? StoredIds.presentText(event.get("userId")) : null;
            if (userId != null) {
                users.computeIfAbsent(StoredIds.storedId(userId), UserState::new)
                        .apply(event, traits(event.get("traits")));
            }
        }
        if (!users.isEmpty()) {
            TableRows rows = new TableRows("users", true);
            for (UserState user : users.values()) user.addTo(rows);
            tables.put(rows.table, rows);
        }
        return new Mapped(tables, rejected);
    }

    private static void rows(
            ObjectNode event, String type, Set<String> consumed, Map<String, List<Map<String, Value>>> out) {
        switch (type) {
            case "track" -> track(event, consumed, out);
            case "identify" -> add(out, "identifies", row(event, base(event), "traits", consumed));
            case "page" -> add(out, "pages", named(event, consumed));
            case "screen" -> add(out, "screens", named(event, consumed));
            case "group" ->
                add(
                        out,
                        "groups",
                        with(row(event, base(event), "traits", consumed), "group_id", idText(event.get("groupId"))));
            default ->
                add(
                        out,
                        "aliases",
                        with(row(event, base(event), null, consumed), "previous_id", idText(event.get("previousId"))));
        }
    }

    private static void add(Map<String, List<Map<String, Value>>> out, String table, Map<String, Value> row) {
        out.computeIfAbsent(table, t -> new ArrayList<>()).add(row);
    }

    private static void track(ObjectNode event, Set<String> consumed, Map<String, List<Map<String, Value>>> out) {
        String eventText = event.path("event").asText("");
        Map<String, Value> base = base(event);
        Map<String, Value> common = row(event, new LinkedHashMap<>(base), null, consumed);
        if (eventText.isEmpty()) {
            add(out, "tracks", common);
            return;
        }
        String eventTable = Identifiers.named(NameKind.EVENT_TABLE, List.of(eventText));
        common.put("event", Value.text(eventTable));
        common.put("event_text", Value.asText(event.get("event")));
        add(out, "tracks", common);
        Map<String, Value> own = row(event, base, "properties", consumed);
        own.put("event", Value.text(eventTable));
        own.put("event_text", Value.asText(event.get("event")));
        add(out, eventTable, own);
    }

    private static Map<String, Value> named(ObjectNode event, Set<String> consumed) {
        Map<String, Value> row = row(event, base(event), "properties", consumed);
        with(row, "name", Value.asText(event.get("name")));
        return with(row, "category", Value.asText(event.get("category")));
    }

    /** The columns every event table shares: the fixed fields and context_*. */
    private static Map<String, Value> base(ObjectNode event) {
        Map<String, Value> row = new LinkedHashMap<>();
        String messageId = StoredIds.presentText(event.get("messageId"));
        if (messageId == null) {
            row.put("id", Value.text("sluice-" + sha256(event.toString())));
        } else {
            String id = StoredIds.storedId(messageId);
            row.put("id", Value.text(id));
            if (!id.equals(messageId)) row.put(StoredIds.MESSAGE_ID_COLUMN, Value.text(messageId));
        }
        with(row, "received_at", Value.of(event.get("receivedAt")));
        with(row, "sent_at", Value.of(event.get("sentAt")));
        with(row, "timestamp", Value.of(event.get("timestamp")));
        with(row, "original_timestamp", Value.of(event.get("originalTimestamp")));
        with(row, "user_id", idText(event.get("userId")));
        with(row, "anonymous_id", idText(event.get("anonymousId")));
        JsonNode context = event.get("context");
        if (context != null && context.isObject()) flatten(context, ColumnOrigin.Kind.CONTEXT, new ArrayList<>(), row);
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
            ColumnOrigin.Kind kind =
                    payloadField.equals("traits") ? ColumnOrigin.Kind.TRAIT : ColumnOrigin.Kind.PROPERTY;
            if (payload != null && payload.isObject()) flatten(payload, kind, new ArrayList<>(), row);
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = event.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            String key = field.getKey();
            if (SKIPPED.contains(key) || COMMON.contains(key) || consumed.contains(key)) continue;
            List<String> path = new ArrayList<>(List.of(key));
            if (field.getValue().isObject()) flatten(field.getValue(), ColumnOrigin.Kind.FIELD, path, row);
            else put(row, ColumnOrigin.Kind.FIELD, path, field.getValue());
        }
        return row;
    }

    /** Traits as unprefixed columns (for users). */
    private static Map<String, Value> traits(JsonNode traits) {
        Map<String, Value> row = new LinkedHashMap<>();
        if (traits != null && traits.isObject()) flatten(traits, ColumnOrigin.Kind.TRAIT, new ArrayList<>(), row);
        return row;
    }

    /** Nested objects become columns joined by '_'; arrays are JSON text; nulls and empty objects add nothing. */
    private static void flatten(JsonNode object, ColumnOrigin.Kind kind, List<String> path, Map<String, Value> row) {
        for (Iterator<Map.Entry<String, JsonNode>> it = object.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            path.add(field.getKey());
            if (field.getValue().isObject()) flatten(field.getValue(), kind, path, row);
            else put(row, kind, path, field.getValue());
            path.removeLast();
        }
    }

    private static void put(Map<String, Value> row, ColumnOrigin.Kind kind, List<String> path, JsonNode node) {
        Value value = Value.of(node);
        if (value == null) return;
        NameKind nameKind = switch (kind) {
            case PROPERTY -> NameKind.PROPERTIES;
            case TRAIT -> NameKind.TRAITS;
            case CONTEXT -> NameKind.CONTEXT;
            case FIELD -> NameKind.FIELDS;
        };
        Identifiers.Named named = Identifiers.memo(nameKind, path);
        String column = named.name();
        boolean alternate = row.containsKey(column);
        if (alternate) {
            // two values of one event met in one name ({"a":{"b":1}} and {"a_b":2}, or a property named like an
            // extra field): the later one gets a name of its own instead of overwriting
            String prefix = kind == ColumnOrigin.Kind.CONTEXT ? "context" : nameKind.name();
            column = Identifiers.disambiguated(column, prefix, path);
        }
        // the memo's immutable path: no copy per value, and origins of one path compare by identity
        row.putIfAbsent(column, value.from(new ColumnOrigin(kind, named.path(), alternate), node));
    }

    private static Value idText(JsonNode node) {
        String text = StoredIds.presentText(node);
        return text == null ? null : Value.text(text);
    }

    private static Map<String, Value> with(Map<String, Value> row, String column, Value value) {
        if (value != null) row.put(column, value);
        return row;
    }

    private static TableRows table(SortedMap<String, TableRows> tables, String name) {
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
