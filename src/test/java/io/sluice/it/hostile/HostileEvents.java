package io.sluice.it.hostile;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * A seeded generator of valid but odd Segment events (issue 22): names from a hostile alphabet (control characters
 * with \u001e and NUL, unicode, case variants of PostgreSQL's system columns, relation-like names such as "Tracks
 * Pkey", very long names, names that map alike), odd messageIds (NUL, newline, non-ASCII, 10 KB, "…\u0000" next to
 * "…\\u0000"), wide and deep events, type changes, {@code userId: ""}. The same seed gives the same events.
 * Every event's messageId is unique, so each event's fate can be told apart.
 */
public final class HostileEvents {
    /** What made an event odd; printed with every failure. */
    public enum Shape {
        ODD_NAMES,
        ODD_MESSAGE_ID,
        WIDE,
        DEEP,
        TYPE_CHANGE,
        EMPTY_USER_ID,
        ODD_VALUES
    }

    /** One generated event, the user it belongs to (for the follow-up event) and why it is odd. */
    public record Generated(ObjectNode event, String user, Shape shape, String detail) {
        public String messageId() {
            return event.get("messageId").asText();
        }
    }

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final String[] SYSTEM_COLUMNS = {"xmin", "xmax", "cmin", "cmax", "ctid", "tableoid", "oid"};
    private static final String[] RELATION_LIKE = {
        "Tracks Pkey",
        "tracks_pkey",
        "users",
        "users_pkey",
        "identifies_pkey",
        "pages",
        "id",
        "received_at",
        "uuid_ts",
        "event_text",
        "Tracks",
        "context_ip"
    };
    private static final String[] ODD = {
        "\u001etimestamp",
        "\u001eid",
        "\u001euser_id",
        "a\u0000b",
        "tab\there",
        "line\nbreak",
        "ünïcödé",
        "名前",
        "emoji\uD83D\uDE00",
        "rtl\u202eevil",
        "e\u0301",
        "a-b",
        "a_b_7f34949e",
        "\"; DROP TABLE tracks; --",
        "x\\u0000y",
        "back\\\\slash",
        " leading space",
        "UPPER",
        "upper",
        "Upper",
        "",
        "0starts_with_digit",
        "$dollar"
    };

    private final Random random;
    private final String run;
    private int next;

    /** @param run distinguishes this run's messageIds and users from any earlier run on the same cluster */
    public HostileEvents(long seed, String run) {
        this.random = new Random(seed);
        this.run = run;
    }

    public List<Generated> generate(int count) {
        List<Generated> events = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            Shape shape = Shape.values()[random.nextInt(Shape.values().length)];
            events.add(event(shape));
            if (shape == Shape.ODD_MESSAGE_ID && random.nextInt(3) == 0) { // "…\u0000" next to "…\\u0000"
                String base = "pair-" + run + "-" + next++;
                Generated nul = with(events.removeLast(), base + "\u0000", "a messageId ending in NUL");
                events.add(nul);
                events.add(with(nul, base + "\\u0000", "the literal-backslash twin of a NUL messageId"));
            }
        }
        return events;
    }

    private Generated with(Generated original, String messageId, String detail) {
        ObjectNode copy = original.event().deepCopy();
        copy.put("messageId", messageId);
        return new Generated(copy, original.user(), original.shape(), detail);
    }

    private Generated event(Shape shape) {
        String user = "user-" + run + "-" + random.nextInt(8);
        String type = List.of("track", "track", "identify", "page").get(random.nextInt(4));
        ObjectNode event = MAPPER.createObjectNode().put("type", type);
        String messageId = "m-" + run + "-" + next++;
        String detail;
        ObjectNode fields = event.putObject(type.equals("identify") ? "traits" : "properties");
        if (type.equals("track")) event.put("event", shape == Shape.ODD_NAMES ? name() : "Ordinary Thing");
        if (type.equals("page")) event.put("name", shape == Shape.ODD_NAMES ? name() : "Home");
        switch (shape) {
            case ODD_NAMES -> {
                int n = 1 + random.nextInt(6);
                for (int i = 0; i < n; i++) fields.set(name(), MAPPER.valueToTree(value(0)));
                detail = "names "
                        + fields.properties().stream()
                                .map(e -> quote(e.getKey()))
                                .toList()
                        + (event.has("event")
                                ? " event " + quote(event.get("event").asText())
                                : "");
            }
            case ODD_MESSAGE_ID -> {
                messageId = switch (random.nextInt(5)) {
                    case 0 -> messageId + "\u0000nul";
                    case 1 -> messageId + "\nnew line";
                    case 2 -> "ñøñ-åşçîî-" + messageId + "-\uD83D\uDE00";
                    case 3 -> messageId + "-" + "k".repeat(10_000);
                    default -> messageId + "\u001e\u0007\r";
                };
                fields.put("plain", 1);
                detail = "messageId " + quote(messageId.length() > 60 ? messageId.substring(0, 60) + "…" : messageId)
                        + " (" + messageId.length() + " chars)";
            }
            case WIDE -> {
                int n = 200 + random.nextInt(200);
                for (int i = 0; i < n; i++) fields.put("wide_" + run + "_" + i, random.nextInt());
                detail = n + " properties";
            }
            case DEEP -> {
                int depth = 10 + random.nextInt(25);
                ObjectNode at = fields;
                for (int i = 0; i < depth; i++) at = at.putObject(i % 2 == 0 ? "deep" : name());
                at.put("bottom", true);
                detail = "nested " + depth + " levels";
            }
            case TYPE_CHANGE -> {
                String key = "amount";
                fields.set(
                        key,
                        MAPPER.valueToTree(List.of(1, "one", 1.5, true, List.of(1), BigInteger.TEN.pow(30))
                                .get(random.nextInt(6))));
                detail = "amount as " + fields.get(key).getNodeType();
            }
            case EMPTY_USER_ID -> {
                event.put("anonymousId", "anon-" + run + "-" + random.nextInt(4));
                event.put("userId", "");
                detail = "userId \"\" with an anonymousId";
                fields.put("plain", 1);
                return new Generated(
                        event.put("messageId", messageId),
                        event.get("anonymousId").asText(),
                        shape,
                        detail);
            }
            default -> {
                for (int i = 0; i < 4; i++) fields.set("v" + i, MAPPER.valueToTree(value(0)));
                detail = "values " + fields;
            }
        }
        event.put("userId", user);
        event.put("messageId", messageId);
        return new Generated(event, user, shape, detail);
    }

    private String name() {
        return switch (random.nextInt(5)) {
            case 0 -> randomCase(SYSTEM_COLUMNS[random.nextInt(SYSTEM_COLUMNS.length)]);
            case 1 -> RELATION_LIKE[random.nextInt(RELATION_LIKE.length)];
            case 2 -> "long_" + "n".repeat(250 + random.nextInt(100)) + random.nextInt(1000);
            default -> ODD[random.nextInt(ODD.length)];
        };
    }

    private String randomCase(String name) {
        StringBuilder out = new StringBuilder();
        for (char c : name.toCharArray()) out.append(random.nextBoolean() ? c : Character.toUpperCase(c));
        return out.toString();
    }

    private Object value(int depth) {
        return switch (random.nextInt(depth > 1 ? 7 : 9)) {
            case 0 -> "text with NUL \u0000 and RS \u001e";
            case 1 -> "x\\u0000y";
            case 2 -> random.nextLong();
            case 3 -> random.nextDouble();
            case 4 -> random.nextBoolean();
            case 5 -> "2026-05-01T10:00:00.000Z";
            case 6 -> "ünïcödé \uD83D\uDE00 " + "z".repeat(random.nextInt(50));
            case 7 -> List.of(value(depth + 1), value(depth + 1));
            default -> java.util.Map.of("inner", value(depth + 1));
        };
    }

    /** A name or id as Java would write it, so a control character is visible in a failure message. */
    public static String quote(String text) {
        StringBuilder out = new StringBuilder("\"");
        for (char c : text.toCharArray()) {
            if (c < 0x20 || c == 0x7f || c == '"' || c == '\\' || (c >= 0x202a && c <= 0x202e)) {
                out.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        return out.append('"').toString();
    }
}
