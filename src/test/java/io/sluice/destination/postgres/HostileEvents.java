package io.sluice.destination.postgres;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Random;

/**
 * A seeded generator of valid but odd events (docs/record-format.md): names from a hostile alphabet (control
 * characters, U+001E, NUL, non-ASCII, case variants of PostgreSQL's system columns, names of relations the warehouse
 * has, Segment's reserved columns, names that normalise alike, very long names), values of every JSON type with
 * type changes, wide events, and odd ids (empty, 10 KB, with NUL, with a literal {@code \u0000}).
 */
final class HostileEvents {
    /** Names that broke, or could break, the warehouse. */
    static final List<String> NAMES = List.of(
            "xmin",
            "XMAX",
            "Cmin",
            "cmax",
            "CTID",
            "tableoid",
            "TableOid",
            "oid",
            "id",
            "ID",
            "timestamp",
            "received_at",
            "receivedAt",
            "user_id",
            "uuid_ts",
            "event",
            "event_text",
            "name",
            "category",
            "group_id",
            "context_ip",
            "Tracks Pkey",
            "tracks_pkey",
            "order_completed_pkey",
            "users_pkey",
            "Identifies Pkey",
            "_sluice_columns",
            "_sluice_columns_origin",
            "_sluice_extra",
            "_sluice_raw",
            "sluice extra",
            "a-b",
            "a_b",
            "a_b_7f34949e",
            "a.b",
            "A B",
            "aB",
            "\u001etimestamp",
            "\u001eid",
            "\u001fa",
            "a\u001fb",
            "a\u0000b",
            "\u0000",
            "",
            " ",
            "\t",
            "\n",
            "Prénom",
            "prenom",
            "名前",
            "🎉",
            "e\u0301",
            "select",
            "user",
            "_select",
            "tracks",
            "Users",
            "pages",
            "Order Completed",
            "orderCompleted",
            "order_completed",
            "x".repeat(63),
            "x".repeat(64),
            "y".repeat(300),
            "flip");

    private static final String[] ALPHABET = {
        "a", "b", "B", "Z", "_", "-", ".", " ", "\u0000", "\u001e", "\u001f", "\n", "é", "名", "🎉", "1", "0", "\"", "'",
        "\\", "$", "pkey", "xmin", "_key", "seq"
    };

    private final Random random;
    private int sequence;

    HostileEvents(Random random) {
        this.random = random;
    }

    String name() {
        if (random.nextInt(3) > 0) return NAMES.get(random.nextInt(NAMES.size()));
        int length = random.nextInt(10) == 0 ? 60 + random.nextInt(200) : random.nextInt(8);
        StringBuilder name = new StringBuilder();
        while (name.length() < length) name.append(ALPHABET[random.nextInt(ALPHABET.length)]);
        return name.toString();
    }

    /** A unique messageId, sometimes odd. Never empty: the test finds each event by its id. */
    String messageId() {
        String base = "m-" + (sequence++);
        return switch (random.nextInt(12)) {
            case 0 -> base + "\u0000";
            case 1 -> base + "\\u0000";
            case 2 -> base + "-" + "k".repeat(10_000);
            case 3 -> "sha256:" + base;
            case 4 -> base + " 名前 🎉";
            default -> base;
        };
    }

    /** A userId: often one of a few, sometimes empty, long or with NUL; null for none. */
    String userId() {
        return switch (random.nextInt(12)) {
            case 0 -> "";
            case 1 -> null;
            case 2 -> "long-" + "u".repeat(10_000);
            case 3 -> "nul\u0000user";
            case 4 -> "\\u0000user";
            default -> "u" + random.nextInt(6);
        };
    }

    JsonNode value(int depth) {
        return switch (random.nextInt(depth > 1 ? 10 : 11)) {
            case 0 -> WarehouseFixture.JSON.getNodeFactory().numberNode(random.nextInt(1000) - 500);
            case 1 -> WarehouseFixture.JSON.getNodeFactory().numberNode(random.nextLong());
            case 2 -> WarehouseFixture.JSON.getNodeFactory().numberNode(random.nextDouble() * 1000);
            case 3 -> WarehouseFixture.JSON.getNodeFactory().booleanNode(random.nextBoolean());
            case 4 -> WarehouseFixture.JSON.getNodeFactory().textNode(name());
            case 5 ->
                WarehouseFixture.JSON
                        .getNodeFactory()
                        .textNode("2026-0" + (1 + random.nextInt(9)) + "-0" + (1 + random.nextInt(9)) + "T12:34:56."
                                + random.nextInt(1000) + "Z");
            case 6 -> WarehouseFixture.JSON.getNodeFactory().textNode("v\u0000" + random.nextInt(99));
            case 7 -> {
                ArrayNode array = WarehouseFixture.JSON.createArrayNode();
                array.add(random.nextInt(9)).add("s\u0000").addNull();
                yield array;
            }
            case 8 -> WarehouseFixture.JSON.getNodeFactory().nullNode();
            case 9 -> WarehouseFixture.JSON.getNodeFactory().textNode("t".repeat(random.nextInt(3000)));
            default -> object(depth + 1, 1 + random.nextInt(3));
        };
    }

    ObjectNode object(int depth, int keys) {
        ObjectNode object = WarehouseFixture.JSON.createObjectNode();
        for (int i = 0; i < keys; i++) object.set(name(), value(depth));
        return object;
    }

    /** A property that changes type from event to event. */
    JsonNode flip() {
        return switch (random.nextInt(4)) {
            case 0 -> WarehouseFixture.JSON.getNodeFactory().numberNode(random.nextInt(100));
            case 1 -> WarehouseFixture.JSON.getNodeFactory().textNode("text " + random.nextInt(100));
            case 2 -> WarehouseFixture.JSON.getNodeFactory().booleanNode(true);
            default -> WarehouseFixture.JSON.getNodeFactory().numberNode(random.nextInt(100) + 0.5);
        };
    }

    ObjectNode event() {
        int pick = random.nextInt(20);
        String type = pick < 11 ? "track" : pick < 15 ? "identify" : pick < 17 ? "page" : pick < 19 ? "group" : "alias";
        ObjectNode e =
                WarehouseFixture.event(type, messageId(), userId(), "2026-03-01T12:00:0" + random.nextInt(10) + "Z");
        if (random.nextInt(4) == 0) ((ObjectNode) e.get("context")).set(name(), value(1));
        if (random.nextInt(6) == 0) e.set(name(), value(1)); // another top-level field
        if (random.nextInt(8) == 0) e.put("anonymousId", "");
        ObjectNode payload = object(1, random.nextInt(12));
        if (random.nextInt(3) == 0) payload.set("flip", flip());
        if (random.nextInt(15) == 0) for (int i = 0; i < 600; i++) payload.put("wide_" + i, random.nextLong());
        switch (type) {
            case "track" -> {
                e.put("event", random.nextInt(10) == 0 ? "" : name());
                e.set("properties", payload);
            }
            case "identify" -> e.set("traits", payload);
            case "page" -> e.put("name", name()).put("category", "Docs").set("properties", payload);
            case "group" ->
                e.put("groupId", random.nextInt(5) == 0 ? "" : "g" + random.nextInt(3))
                        .set("traits", payload);
            default -> e.put("previousId", "anon-" + random.nextInt(100));
        }
        return e;
    }
}
