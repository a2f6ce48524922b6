package io.sluice.collector;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.time.Instant;
import java.util.Arrays;

/**
 * One event as the streaming parser saw it, without a tree: where each top-level field lies in the body, and the
 * kind and text of the fields the Segment rules ({@link EventValidator}) and the record ({@link RecordWriter}) need.
 * The event is tokenised completely, with the same strictness a tree would get (every number a double cannot
 * hold is refused by {@link StrictNumbers}, strings are checked by Jackson as it skips them, duplicate keys and the
 * nesting limit by the parser), so what it accepts is exactly what {@code readTree} accepted.
 */
final class EventScan implements EventValidator.Fields {
    static final int TYPE = 0, USER_ID = 1, ANONYMOUS_ID = 2, EVENT = 3, GROUP_ID = 4, PREVIOUS_ID = 5, NAME = 6;
    static final int PROPERTIES = 7, TRAITS = 8, CONTEXT = 9, INTEGRATIONS = 10, MESSAGE_ID = 11, TIMESTAMP = 12;
    static final int SENT_AT = 13, ORIGINAL_TIMESTAMP = 14, WRITE_KEY = 15, RECEIVED_AT = 16, SOURCE_ID = 17;
    static final String[] NAMES = {
        "type",
        "userId",
        "anonymousId",
        "event",
        "groupId",
        "previousId",
        "name",
        "properties",
        "traits",
        "context",
        "integrations",
        "messageId",
        "timestamp",
        "sentAt",
        "originalTimestamp",
        "writeKey",
        "receivedAt",
        "sourceId"
    };
    /** Context's own "ip" field: absent, null, or set. */
    static final int IP_ABSENT = 0, IP_NULL = 1, IP_SET = 2;

    /** Offsets in the body: the event's '{' and one past its '}'. */
    int start, end;

    private final JsonToken[] tokens = new JsonToken[NAMES.length];
    private final String[] texts = new String[NAMES.length];
    private final int[] fieldOf = new int[NAMES.length];
    private final Instant[] instants = new Instant[NAMES.length]; // parsed once, by the validator

    /** Per top-level field, in order: where its name starts, where its value starts and ends, its slot or -1. */
    int fieldCount;

    int[] nameStart = new int[12], valueStart = new int[12], valueEnd = new int[12], slot = new int[12];

    int contextIp = IP_ABSENT;
    boolean contextEmpty = true;

    private EventScan() {
        Arrays.fill(fieldOf, -1);
    }

    @Override
    public JsonToken token(int field) {
        return tokens[field];
    }

    /** The string's text, or an integer's digits (as {@code JsonNode.asText()} gives them); else null. */
    @Override
    public String text(int field) {
        return texts[field];
    }

    @Override
    public Instant instant(int field) {
        Instant instant = instants[field];
        if (instant == null && texts[field] != null) instant = instants[field] = Timestamps.parse(texts[field]);
        return instant;
    }

    /** Index of the top-level field in this event's field table, or -1. */
    int field(int slot) {
        return fieldOf[slot];
    }

    int size() {
        return end - start;
    }

    /**
     * Reads the event whose START_OBJECT is the parser's current token, up to and including its END_OBJECT. Offsets
     * are the parser's byte offsets plus {@code base} (where the parser starts in {@code body}).
     */
    static EventScan scan(JsonParser p, byte[] body, int base) throws IOException {
        EventScan s = new EventScan();
        s.start = base + offset(p);
        JsonToken t;
        while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
            int at = base + offset(p);
            int slot = slotOf(p.currentName());
            JsonToken value = p.nextToken();
            int i = s.add(at, base + offset(p), slot);
            if (slot >= 0) {
                s.tokens[slot] = value;
                s.fieldOf[slot] = i;
                if (value == JsonToken.VALUE_STRING) {
                    s.texts[slot] = p.getText();
                } else if (value == JsonToken.VALUE_NUMBER_INT) {
                    s.texts[slot] = integerText(p);
                } else if (slot == CONTEXT && value == JsonToken.START_OBJECT) {
                    s.scanContext(p);
                    continue;
                }
            }
            skip(p, value);
        }
        if (t != JsonToken.END_OBJECT) throw new JsonParseException(p, "unexpected token " + t + " in an event");
        int close = base + offset(p);
        s.end = close + 1;
        s.closeFields(body, close, base);
        return s;
    }

    /** The context's own fields: only whether it has any, and its "ip", are needed. */
    private void scanContext(JsonParser p) throws IOException {
        JsonToken t;
        while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
            contextEmpty = false;
            boolean ip = "ip".equals(p.currentName());
            JsonToken value = p.nextToken();
            if (ip) contextIp = value == JsonToken.VALUE_NULL ? IP_NULL : IP_SET;
            skip(p, value);
        }
        if (t != JsonToken.END_OBJECT) throw new JsonParseException(p, "unexpected token " + t + " in a context");
    }

    private int add(int name, int value, int slotId) {
        int i = fieldCount++;
        if (i == nameStart.length) {
            int n = i * 2;
            nameStart = Arrays.copyOf(nameStart, n);
            valueStart = Arrays.copyOf(valueStart, n);
            valueEnd = Arrays.copyOf(valueEnd, n);
            slot = Arrays.copyOf(slot, n);
        }
        nameStart[i] = name;
        valueStart[i] = value;
        slot[i] = slotId;
        return i;
    }

    /**
     * A value ends where the JSON between it and the next field's name (or the closing brace) begins: only
     * whitespace and one comma can lie between, so the end is found by stepping back over them.
     */
    private void closeFields(byte[] body, int close, int base) {
        for (int i = 0; i < fieldCount; i++) {
            int next = i + 1 < fieldCount ? nameStart[i + 1] : close;
            int e = next;
            while (isSpace(body[e - 1])) e--;
            if (i + 1 < fieldCount) {
                e--; // the comma
                while (isSpace(body[e - 1])) e--;
            }
            valueEnd[i] = e;
        }
    }

    private static boolean isSpace(byte b) {
        return b == ' ' || b == '\n' || b == '\r' || b == '\t';
    }

    /** Skips a value, refusing (like the tree did) decimals a double cannot hold. */
    static void skip(JsonParser p, JsonToken value) throws IOException {
        if (value == JsonToken.VALUE_NUMBER_FLOAT) {
            checkDouble(p);
            return;
        }
        if (value != JsonToken.START_OBJECT && value != JsonToken.START_ARRAY) return;
        int depth = 1;
        while (depth > 0) {
            JsonToken t = p.nextToken();
            if (t == null) throw new JsonParseException(p, "unexpected end of input");
            switch (t) {
                case START_OBJECT, START_ARRAY -> depth++;
                case END_OBJECT, END_ARRAY -> depth--;
                case VALUE_NUMBER_FLOAT -> checkDouble(p);
                default -> {}
            }
        }
    }

    /**
     * A decimal without an exponent and of at most 300 characters is a finite double that is not a false zero
     * (its magnitude lies between 1e-300 and 1e300); only others are converted, by {@link StrictNumbers}.
     */
    private static void checkDouble(JsonParser p) throws IOException {
        int length = p.getTextLength();
        if (length <= 300) {
            char[] text = p.getTextCharacters();
            int from = p.getTextOffset();
            boolean exponent = false;
            for (int i = from; i < from + length && !exponent; i++) exponent = text[i] == 'e' || text[i] == 'E';
            if (!exponent) return;
        }
        p.getDoubleValue();
    }

    /** What {@code IntNode/LongNode/BigIntegerNode.asText()} would give. */
    private static String integerText(JsonParser p) throws IOException {
        return switch (p.getNumberType()) {
            case INT, LONG -> Long.toString(p.getLongValue());
            default -> p.getBigIntegerValue().toString();
        };
    }

    private static int offset(JsonParser p) {
        return (int) p.currentTokenLocation().getByteOffset();
    }

    private static int slotOf(String name) {
        return switch (name) {
            case "type" -> TYPE;
            case "userId" -> USER_ID;
            case "anonymousId" -> ANONYMOUS_ID;
            case "event" -> EVENT;
            case "groupId" -> GROUP_ID;
            case "previousId" -> PREVIOUS_ID;
            case "name" -> NAME;
            case "properties" -> PROPERTIES;
            case "traits" -> TRAITS;
            case "context" -> CONTEXT;
            case "integrations" -> INTEGRATIONS;
            case "messageId" -> MESSAGE_ID;
            case "timestamp" -> TIMESTAMP;
            case "sentAt" -> SENT_AT;
            case "originalTimestamp" -> ORIGINAL_TIMESTAMP;
            case "writeKey" -> WRITE_KEY;
            case "receivedAt" -> RECEIVED_AT;
            case "sourceId" -> SOURCE_ID;
            default -> -1;
        };
    }
}
