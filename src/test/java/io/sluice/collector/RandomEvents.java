package io.sluice.collector;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Seeded generator of Segment events as JSON text, mostly valid, with the shapes the record writer must get right:
 * every optional field present, null or absent, numeric ids, the server's own fields sent by the client, nested
 * contexts with and without ip, unicode and other escapes, random whitespace, and now and then an invalid value.
 */
final class RandomEvents {
    private static final String[] TYPES = {"track", "identify", "page", "screen", "group", "alias"};

    private RandomEvents() {}

    static String event(SplittableRandom r, boolean batch) {
        List<String> fields = new ArrayList<>();
        String type = TYPES[r.nextInt(TYPES.length)];
        if (batch ? r.nextInt(40) != 0 : r.nextBoolean()) fields.add(field(r, "type", quote(type)));
        identity(r, fields, "userId");
        identity(r, fields, "anonymousId");
        if (r.nextInt(10) != 0) fields.add(field(r, "event", r.nextInt(30) == 0 ? "\" \"" : string(r)));
        if (type.equals("group") && r.nextInt(8) != 0) fields.add(field(r, "groupId", string(r)));
        else if (r.nextInt(3) == 0) identity(r, fields, "groupId");
        if (type.equals("alias") && r.nextInt(8) != 0) fields.add(field(r, "previousId", string(r)));
        else if (r.nextInt(3) == 0) identity(r, fields, "previousId");
        if (r.nextInt(3) == 0) fields.add(field(r, "name", r.nextInt(20) == 0 ? "3" : string(r)));
        switch (r.nextInt(5)) {
            case 0 -> {}
            case 1 -> fields.add(field(r, "messageId", "null"));
            case 2 -> fields.add(field(r, "messageId", "\"\""));
            default -> fields.add(field(r, "messageId", quote("m-" + r.nextInt(1_000_000))));
        }
        for (String t : new String[] {"timestamp", "sentAt", "originalTimestamp"}) {
            switch (r.nextInt(4)) {
                case 0 -> {}
                case 1 -> fields.add(field(r, t, "null"));
                default -> fields.add(field(r, t, quote(r.nextInt(40) == 0 ? "yesterday" : timestamp(r))));
            }
        }
        for (String o : new String[] {"properties", "traits", "integrations"}) {
            if (r.nextInt(3) == 0) fields.add(field(r, o, r.nextInt(25) == 0 ? "[]" : object(r, 3)));
        }
        switch (r.nextInt(5)) {
            case 0 -> {}
            case 1 -> fields.add(field(r, "context", "null"));
            default -> fields.add(field(r, "context", context(r)));
        }
        // the server's own fields, sent by a client
        if (r.nextInt(4) == 0) fields.add(field(r, "receivedAt", quote(timestamp(r))));
        if (r.nextInt(6) == 0) fields.add(field(r, "sourceId", string(r)));
        if (r.nextInt(6) == 0) fields.add(field(r, "writeKey", quote("wk")));
        if (r.nextInt(3) == 0) fields.add(field(r, "extra" + r.nextInt(3), value(r, 2)));
        java.util.Collections.shuffle(fields, new java.util.Random(r.nextLong()));
        return ws(r) + "{" + ws(r) + String.join("," + ws(r), fields) + ws(r) + "}" + ws(r);
    }

    static String context(SplittableRandom r) {
        List<String> fields = new ArrayList<>();
        switch (r.nextInt(4)) {
            case 0 -> fields.add(field(r, "ip", "null"));
            case 1 -> fields.add(field(r, "ip", quote("198.51.100." + r.nextInt(255))));
            default -> {}
        }
        if (r.nextBoolean())
            fields.add(field(r, "library", "{\"name\":" + string(r) + ",\"version\":" + string(r) + "}"));
        if (r.nextBoolean()) fields.add(field(r, "page", "{\"url\":" + string(r) + ",\"n\":" + number(r) + "}"));
        if (r.nextBoolean()) fields.add(field(r, "userAgent", string(r)));
        if (r.nextInt(3) == 0) fields.add(field(r, "locale", r.nextBoolean() ? "null" : string(r)));
        java.util.Collections.shuffle(fields, new java.util.Random(r.nextLong()));
        return "{" + ws(r) + String.join("," + ws(r), fields) + ws(r) + "}";
    }

    static String timestamp(SplittableRandom r) {
        String date = String.format(
                "%04d-%02d-%02dT%02d:%02d:%02d",
                r.nextInt(10) == 0 ? 1 + r.nextInt(9999) : 2026,
                1 + r.nextInt(12),
                1 + r.nextInt(28),
                r.nextInt(24),
                r.nextInt(60),
                r.nextInt(60));
        if (r.nextInt(20) == 0) date = "2026-03-01T11:59:" + String.format("%02d", r.nextInt(60));
        String fraction = switch (r.nextInt(4)) {
            case 0 -> "";
            case 1 -> "." + r.nextInt(10);
            case 2 -> String.format(".%03d", r.nextInt(1000));
            default -> String.format(".%09d", r.nextInt(1_000_000_000));
        };
        String zone = switch (r.nextInt(6)) {
            case 0 -> "";
            case 1 -> "+02:00";
            case 2 -> "-11:30";
            default -> "Z";
        };
        return date + fraction + zone;
    }

    private static void identity(SplittableRandom r, List<String> fields, String name) {
        switch (r.nextInt(9)) {
            case 0 -> {}
            case 1 -> fields.add(field(r, name, "null"));
            case 2 -> fields.add(field(r, name, "\"\""));
            case 3 -> fields.add(field(r, name, Long.toString(r.nextLong())));
            case 4 -> fields.add(field(r, name, r.nextInt(15) == 0 ? "true" : "42"));
            default -> fields.add(field(r, name, string(r)));
        }
    }

    private static String value(SplittableRandom r, int depth) {
        int kind = depth == 0 ? r.nextInt(4) : r.nextInt(6);
        return switch (kind) {
            case 0 -> string(r);
            case 1 -> number(r);
            case 2 -> r.nextBoolean() ? "true" : "null";
            case 3 -> r.nextBoolean() ? "false" : string(r);
            case 4 -> {
                List<String> items = new ArrayList<>();
                for (int i = r.nextInt(4); i > 0; i--) items.add(value(r, depth - 1));
                yield "[" + ws(r) + String.join("," + ws(r), items) + ws(r) + "]";
            }
            default -> object(r, depth - 1);
        };
    }

    private static String object(SplittableRandom r, int depth) {
        List<String> items = new ArrayList<>();
        for (int i = r.nextInt(5); i > 0; i--) items.add(field(r, "k" + i, value(r, depth)));
        return "{" + ws(r) + String.join("," + ws(r), items) + ws(r) + "}";
    }

    private static String number(SplittableRandom r) {
        return switch (r.nextInt(6)) {
            case 0 -> Integer.toString(r.nextInt());
            case 1 -> "123456789012345678901234567890";
            case 2 -> Double.toString(r.nextDouble() * 1000);
            case 3 -> "1.50E2";
            case 4 -> "-0";
            default -> "0.1000000000000000055511151231257827";
        };
    }

    /** A JSON string literal with escapes of every kind now and then. */
    private static String string(SplittableRandom r) {
        String[] parts = {
            "plain",
            "\\u00e9t\\u00E9",
            "\u00e9t\u00e9",
            "\\ud83d\\ude00",
            "\ud83d\ude00",
            "\\\"q\\\"",
            "\\\\",
            "\\/",
            "\\n\\t",
            "\\u0000",
            "sp ace",
            "\u4e2d\u6587"
        };
        StringBuilder b = new StringBuilder("\"");
        for (int i = r.nextInt(4); i > 0; i--) b.append(parts[r.nextInt(parts.length)]);
        if (b.length() == 1 || r.nextBoolean()) b.append("x").append(r.nextInt(100));
        return b.append('"').toString();
    }

    private static String field(SplittableRandom r, String name, String value) {
        return quote(name) + ws(r) + ":" + ws(r) + value;
    }

    private static String quote(String text) {
        return "\"" + text + "\"";
    }

    private static String ws(SplittableRandom r) {
        return switch (r.nextInt(8)) {
            case 0 -> " ";
            case 1 -> "\n  ";
            case 2 -> "\t\r\n";
            default -> "";
        };
    }
}
