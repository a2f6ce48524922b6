package io.sluice.destination.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.destination.DeliveryReport;
import io.sluice.destination.Destination;
import io.sluice.support.TestPostgres;
import java.math.BigDecimal;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Generated valid-but-odd events ({@link HostileEvents}) through the real {@link WarehouseDestination} into a real
 * PostgreSQL, with a small column budget so overflow is exercised. For every event: its rows are in the tables
 * docs/warehouse.md names, every value is readable under the column the mapping table names (or in the overflow
 * column), users rows exist only for real userIds, earlier rows are not altered by later batches, and a batch with a
 * poison event loads every other event. The seed is printed on failure; rerun with {@code -Dsluice.seed=<seed>}.
 */
class WarehouseHostileDataTest {
    private static final int BUDGET = 40;
    private static final ObjectMapper EXACT =
            new ObjectMapper().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);
    private static final Set<String> SKIPPED = Set.of("type", "sourceId", "writeKey", "integrations", "_metadata");
    private static final Set<String> COMMON = Set.of(
            "messageId", "receivedAt", "sentAt", "timestamp", "originalTimestamp", "userId", "anonymousId", "context");
    private static final Map<String, Set<String>> CONSUMED = Map.of(
            "track", Set.of("event", "properties"),
            "identify", Set.of("traits"),
            "page", Set.of("name", "category", "properties"),
            "group", Set.of("groupId", "traits"),
            "alias", Set.of("previousId"));

    @Test
    void generatedHostileEventsAreEachStoredWhereTheDocsSayAndAPoisonEventFailsAlone() throws Exception {
        long seed = Long.getLong("sluice.seed", System.nanoTime());
        System.out.println("WarehouseHostileDataTest seed " + seed);
        try (WarehouseFixture warehouse = new WarehouseFixture("warehouse_hostile")) {
            run(warehouse, seed);
        } catch (AssertionError | Exception e) {
            throw new AssertionError("seed " + seed + " (rerun with -Dsluice.seed=" + seed + "): " + e.getMessage(), e);
        }
    }

    private void run(WarehouseFixture warehouse, long seed) throws Exception {
        HostileEvents generate = new HostileEvents(new Random(seed));
        String source = "hostile";
        String schema = Identifiers.schema(source);
        try (Destination destination = new WarehouseDestination(
                "hostile", warehouse.url, TestPostgres.USER, "", 2, 10_000, BUDGET, Clock.systemUTC())) {
            destination.open();
            List<ObjectNode> loaded = new ArrayList<>();
            List<ObjectNode> first = null;
            for (int b = 0; b < 5; b++) {
                List<ObjectNode> batch = new ArrayList<>();
                for (int i = 0; i < 40; i++) batch.add(generate.event());
                DeliveryReport report =
                        WarehouseFixture.deliverAsWorker(destination, WarehouseFixture.batch(source, batch));
                assertThat(report.failures()).as("batch %d", b).isEmpty();
                loaded.addAll(batch);
                if (first == null) first = batch;
            }
            Map<String, Map<String, String>> before = snapshot(warehouse, schema);

            // a batch with a poison event: only the poison fails, permanently; the rest loads
            List<ObjectNode> last = new ArrayList<>();
            for (int i = 0; i < 40; i++) last.add(generate.event());
            ObjectNode poison = generate.event().put("type", "bogus");
            last.add(new Random(seed).nextInt(last.size()), poison);
            DeliveryReport report = WarehouseFixture.deliverAsWorker(destination, WarehouseFixture.batch(source, last));
            assertThat(report.failures()).hasSize(1);
            assertThat(report.failures().getFirst().event()).isSameAs(poison);
            assertThat(report.failures().getFirst().error().isRetriable()).isFalse();
            assertThat(report.failures().getFirst().error().getMessage()).contains("unknown event type 'bogus'");
            last.remove(poison);
            loaded.addAll(last);

            // and a re-delivery of the first batch (the staged path) adds and changes nothing
            assertThat(WarehouseFixture.deliverAsWorker(destination, WarehouseFixture.batch(source, first))
                            .failures())
                    .isEmpty();

            Map<String, Map<String, String>> after = snapshot(warehouse, schema);
            long rowsAfterFirstBatches = before.size();
            assertThat(after.size() - rowsAfterFirstBatches)
                    .as("the last batch added its own rows only")
                    .isEqualTo(rowsOf(last));
            for (Map.Entry<String, Map<String, String>> row : before.entrySet()) {
                Map<String, String> now = after.get(row.getKey());
                assertThat(now).as("row %s is still there", row.getKey()).isNotNull();
                assertThat(now).as("row %s is unchanged", row.getKey()).containsAllEntriesOf(row.getValue());
            }

            Map<String, Map<String, String>> mapping = mapping(warehouse, schema);
            for (ObjectNode event : loaded) checkEvent(warehouse, schema, mapping, event);
            checkUsers(warehouse, schema, loaded);
            checkMappingIsInjective(warehouse, schema);
        }
    }

    /** Rows a list of (distinct) events adds outside users: a track with a name two, every other event one. */
    private static long rowsOf(List<ObjectNode> events) {
        long rows = 0;
        for (ObjectNode event : events) {
            boolean named = event.get("type").asText().equals("track")
                    && !event.get("event").asText().isEmpty();
            rows += named ? 2 : 1;
        }
        return rows;
    }

    // ---- what docs/warehouse.md promises per event ----

    private static void checkEvent(
            WarehouseFixture warehouse, String schema, Map<String, Map<String, String>> mapping, ObjectNode event)
            throws Exception {
        String type = event.get("type").asText();
        List<String> tables = new ArrayList<>();
        switch (type) {
            case "track" -> {
                tables.add("tracks");
                String name = event.get("event").asText();
                if (!name.isEmpty()) tables.add(Identifiers.eventTable(name));
            }
            case "identify" -> tables.add("identifies");
            case "page" -> tables.add("pages");
            case "group" -> tables.add("groups");
            default -> tables.add("aliases");
        }
        String messageId = event.get("messageId").textValue();
        String id = StoredIds.storedId(messageId);
        for (String table : tables) {
            String where = "event " + event + " in " + table;
            JsonNode row = row(warehouse, schema, table, id);
            assertThat(row).as("%s: its row", where).isNotNull();
            if (!id.equals(messageId)) {
                assertThat(row.path("_sluice_message_id").textValue())
                        .as(where)
                        .isEqualTo(messageId.replace("\0", "\\u0000"));
            }
            if (hasNul(event)) {
                assertThat(EXACT.readTree(row.path("_sluice_raw").textValue()))
                        .as("%s: the raw event", where)
                        .isEqualTo(EXACT.readTree(event.toString()));
            }
            checkIdColumn(row, "user_id", event.get("userId"), where);
            checkIdColumn(row, "anonymous_id", event.get("anonymousId"), where);
            for (Leaf leaf : leaves(event, table)) {
                Map<String, String> columns = mapping.getOrDefault(table, Map.of());
                List<String> candidates = new ArrayList<>();
                for (boolean alternate : new boolean[] {false, true}) {
                    String column = columns.get(leaf.key(alternate));
                    if (column != null && !column.equals(Overflow.COLUMN)) candidates.add(column);
                }
                boolean found = false;
                for (String column : candidates) found |= matches(leaf.value, row.get(column));
                found |= matches(leaf.value, at(row.get(Overflow.COLUMN), leaf.eventPath()));
                assertThat(found)
                        .as(
                                "%s: %s %s = %s under %s or in %s of %s",
                                where, leaf.kind, leaf.path, leaf.value, candidates, Overflow.COLUMN, row)
                        .isTrue();
            }
        }
    }

    private static void checkIdColumn(JsonNode row, String column, JsonNode sent, String where) {
        if (sent == null || sent.asText().isEmpty()) {
            JsonNode stored = row.get(column);
            assertThat(stored == null || stored.isNull())
                    .as("%s: an empty or missing %s is absent", where, column)
                    .isTrue();
        } else {
            assertThat(row.path(column).textValue())
                    .as(where)
                    .isEqualTo(sent.textValue().replace("\0", "\\u0000"));
        }
    }

    private static void checkUsers(WarehouseFixture warehouse, String schema, List<ObjectNode> events)
            throws Exception {
        Set<String> expected = new HashSet<>();
        for (ObjectNode event : events) {
            if (!event.get("type").asText().equals("identify")) continue;
            JsonNode userId = event.get("userId");
            if (userId != null && !userId.asText().isEmpty()) expected.add(StoredIds.storedId(userId.textValue()));
        }
        Set<String> actual = new HashSet<>();
        for (Map<String, Object> row : warehouse.rows("SELECT id FROM " + schema + ".users")) {
            actual.add((String) row.get("id"));
        }
        assertThat(actual).as("users rows are the real userIds of identifies").isEqualTo(expected);
    }

    /** Two originals share a column only by a conventional merge: the same kind, and a name that was not hashed. */
    private static void checkMappingIsInjective(WarehouseFixture warehouse, String schema) throws Exception {
        Map<String, Set<String>> kinds = new HashMap<>();
        Map<String, Set<String>> originals = new HashMap<>();
        Map<String, Map<String, String>> tableColumns = new HashMap<>();
        for (Map<String, Object> row : warehouse.rows("SELECT table_name, column_name, kind, original_name FROM "
                + schema + "._sluice_columns WHERE column_name <> '_sluice_extra'")) {
            String column = row.get("table_name") + "." + row.get("column_name");
            kinds.computeIfAbsent(column, k -> new HashSet<>()).add((String) row.get("kind"));
            originals.computeIfAbsent(column, k -> new HashSet<>()).add((String) row.get("original_name"));
            assertThat(tableColumns.computeIfAbsent((String) row.get("table_name"), t -> columns(warehouse, schema, t)))
                    .as("mapped column %s exists", column)
                    .containsKey((String) row.get("column_name"));
        }
        assertThat(kinds).isNotEmpty();
        kinds.forEach((column, set) -> assertThat(set).as("kinds of %s", column).hasSize(1));
        originals.forEach((column, set) -> {
            if (Identifiers.isHashed(column.substring(column.indexOf('.') + 1)))
                assertThat(set).as("originals of hashed %s", column).hasSize(1);
        });
        for (String table : warehouse.tables(schema)) {
            assertThat(warehouse.columns(schema, table).size())
                    .as("columns of %s", table)
                    .isLessThanOrEqualTo(BUDGET + 3);
        }
    }

    private static Map<String, String> columns(WarehouseFixture warehouse, String schema, String table) {
        try {
            return warehouse.columns(schema, table);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    // ---- values ----

    /** Whether a stored value (a column's value as to_jsonb gives it, or JSON in the overflow column) is the sent one. */
    static boolean matches(JsonNode sent, JsonNode stored) {
        if (stored == null || stored.isNull() || stored.isMissingNode()) return false;
        if (sent.isTextual()) {
            String text = sent.textValue().replace("\0", "\\u0000");
            if (stored.isTextual() && stored.textValue().equals(text)) return true;
            OffsetDateTime a = time(text);
            OffsetDateTime b = stored.isTextual() ? time(stored.textValue()) : null;
            return a != null && b != null && a.toInstant().equals(b.toInstant());
        }
        if (sent.isNumber()) {
            try {
                if (sent.isFloatingPointNumber()) return Double.parseDouble(stored.asText()) == sent.doubleValue();
                return new BigDecimal(stored.asText()).compareTo(sent.decimalValue()) == 0;
            } catch (NumberFormatException e) {
                return false;
            }
        }
        if (sent.isBoolean()) return stored.asText().equals(sent.asText());
        if (sent.isArray()) {
            JsonNode array = stored;
            if (stored.isTextual()) {
                try {
                    array = EXACT.readTree(stored.textValue());
                } catch (Exception e) {
                    return false;
                }
                if (array.equals(EXACT.valueToTree(sent))) return true;
            }
            if (!array.isArray() || array.size() != sent.size()) return false;
            for (int i = 0; i < sent.size(); i++) {
                boolean same = sent.get(i).isNull() ? array.get(i).isNull() : matches(sent.get(i), array.get(i));
                if (!same) return false;
            }
            return true;
        }
        return false;
    }

    private static boolean hasNul(JsonNode node) {
        if (node.isTextual()) return node.textValue().indexOf('\0') >= 0;
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            if (field.getKey().indexOf('\0') >= 0 || hasNul(field.getValue())) return true;
        }
        if (node.isArray()) for (JsonNode item : node) if (hasNul(item)) return true;
        return false;
    }

    private static OffsetDateTime time(String text) {
        try {
            return OffsetDateTime.parse(text);
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    private static JsonNode at(JsonNode root, List<String> path) {
        JsonNode at = root;
        for (String key : path) {
            if (at == null || !at.isObject()) return null;
            at = at.get(key.replace("\0", "\\u0000"));
        }
        return at;
    }

    private record Leaf(ColumnOrigin.Kind kind, List<String> path, JsonNode value) {
        String key(boolean alternate) {
            return kind.label + "|" + alternate + "|" + Identifiers.jsonArray(path);
        }

        List<String> eventPath() {
            return new ColumnOrigin(kind, path, false).eventPath();
        }
    }

    /** The payload leaves of an event that a row of {@code table} holds (docs/warehouse.md, "Tables and columns"). */
    private static List<Leaf> leaves(ObjectNode event, String table) {
        List<Leaf> leaves = new ArrayList<>();
        flatten(event.get("context"), ColumnOrigin.Kind.CONTEXT, new ArrayList<>(), leaves);
        String type = event.get("type").asText();
        boolean own = !table.equals("tracks");
        if (own && (type.equals("track") || type.equals("page")))
            flatten(event.get("properties"), ColumnOrigin.Kind.PROPERTY, new ArrayList<>(), leaves);
        if (type.equals("identify") || type.equals("group"))
            flatten(event.get("traits"), ColumnOrigin.Kind.TRAIT, new ArrayList<>(), leaves);
        for (Iterator<Map.Entry<String, JsonNode>> it = event.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            String key = field.getKey();
            if (SKIPPED.contains(key)
                    || COMMON.contains(key)
                    || CONSUMED.get(type).contains(key)) continue;
            List<String> path = new ArrayList<>(List.of(key));
            if (field.getValue().isObject()) flatten(field.getValue(), ColumnOrigin.Kind.FIELD, path, leaves);
            else if (!field.getValue().isNull()) leaves.add(new Leaf(ColumnOrigin.Kind.FIELD, path, field.getValue()));
        }
        return leaves;
    }

    private static void flatten(JsonNode object, ColumnOrigin.Kind kind, List<String> path, List<Leaf> leaves) {
        if (object == null || !object.isObject()) return;
        for (Iterator<Map.Entry<String, JsonNode>> it = object.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            path.add(field.getKey());
            if (field.getValue().isObject()) flatten(field.getValue(), kind, path, leaves);
            else if (!field.getValue().isNull()) leaves.add(new Leaf(kind, List.copyOf(path), field.getValue()));
            path.removeLast();
        }
    }

    // ---- reading the warehouse ----

    private static JsonNode row(WarehouseFixture warehouse, String schema, String table, String id) throws Exception {
        Object json = warehouse.scalar(
                "SELECT to_jsonb(t)::text FROM " + Identifiers.quote(schema) + "." + Identifiers.quote(table)
                        + " t WHERE id = ?",
                id);
        return json == null ? null : EXACT.readTree((String) json);
    }

    /** Table → "kind|alternate|original_name" → column. */
    private static Map<String, Map<String, String>> mapping(WarehouseFixture warehouse, String schema)
            throws Exception {
        Map<String, Map<String, String>> mapping = new HashMap<>();
        for (Map<String, Object> row : warehouse.rows("SELECT table_name, kind, alternate, original_name, column_name"
                + " FROM " + schema + "._sluice_columns")) {
            mapping.computeIfAbsent((String) row.get("table_name"), t -> new HashMap<>())
                    .put(row.get("kind") + "|" + row.get("alternate") + "|" + row.get("original_name"), (String)
                            row.get("column_name"));
        }
        return mapping;
    }

    /** Every non-NULL value of every event table row (users merge by design), as text: "table id" → column → text. */
    private static Map<String, Map<String, String>> snapshot(WarehouseFixture warehouse, String schema)
            throws Exception {
        Map<String, Map<String, String>> rows = new HashMap<>();
        for (String table : warehouse.tables(schema)) {
            if (table.equals("users")) continue;
            for (Map<String, Object> row : warehouse.rows("SELECT id, to_jsonb(t)::text AS row FROM "
                    + Identifiers.quote(schema) + "." + Identifiers.quote(table) + " t")) {
                Map<String, String> values = new HashMap<>();
                JsonNode json = EXACT.readTree((String) row.get("row"));
                json.fields().forEachRemaining(f -> {
                    if (!f.getValue().isNull()) values.put(f.getKey(), normalized(f.getValue()));
                });
                rows.put(table + " " + row.get("id"), values);
            }
        }
        return rows;
    }

    /** A value's text whatever the column's type now (columns only widen): 42 and "42" are the same value. */
    private static String normalized(JsonNode value) {
        if (value.isNumber()) return value.decimalValue().stripTrailingZeros().toPlainString();
        if (value.isTextual()) {
            try {
                return new BigDecimal(value.textValue()).stripTrailingZeros().toPlainString();
            } catch (NumberFormatException e) {
                return value.textValue();
            }
        }
        return value.isValueNode() ? value.asText() : value.toString();
    }
}
