package io.sluice.destination.postgres;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The overflow column {@code _sluice_extra} (docs/warehouse.md, "Column budget"): the payload values of a row that
 * have no column of their own, as one jsonb document shaped like the event itself ({@code {"properties":{"a-b":1},
 * "context":{"x":{"y":2}}, "channel":"web"}}), and the row-size estimate that decides when a row's payload must
 * go there because PostgreSQL could not store it as columns.
 */
final class Overflow {
    /** The overflow column of every table. */
    static final String COLUMN = "_sluice_extra";
    /**
     * Beyond this estimate a row's payload goes to the overflow column. PostgreSQL refuses a row over 8,160 bytes
     * (54000) after TOASTing; the estimate is an upper bound (see {@link #storedBytes}), the rest is header, null
     * bitmap and margin.
     */
    static final int ROW_BYTES = 7_000;
    /** The most one value can take in a row by {@link #storedBytes}. */
    private static final int MAX_VALUE_BYTES = 24 + 4;

    private static final ObjectMapper JSON = new ObjectMapper();

    private Overflow() {}

    /** Whether a row with these values might not fit in a heap page. */
    static boolean tooWide(Collection<Value> values) {
        if (values.size() * MAX_VALUE_BYTES <= ROW_BYTES) return false; // the usual row: no need to add up
        int bytes = 0;
        for (Value value : values) {
            if (value != null) bytes += storedBytes(value);
        }
        return bytes > ROW_BYTES;
    }

    /**
     * An upper bound of a value's bytes in a heap row once TOASTed: a varlena longer than 24 bytes can be compressed
     * or moved out of line (an 18-byte pointer), a shorter one takes its length + a 1-byte header; fixed-width
     * values take 8 bytes plus at most 7 of alignment; a boolean one byte (or its text in a text column).
     */
    static int storedBytes(Value value) {
        int asText = textBytes(value.text());
        return switch (value.kind()) {
            case BOOLEAN -> Math.max(1, asText);
            case INT, BIG_INT, DOUBLE, TIMESTAMP -> Math.max(15, asText);
            case TEXT, JSON -> asText;
        };
    }

    private static int textBytes(String text) {
        if (text.length() >= 24) return MAX_VALUE_BYTES; // toastable: a pointer or 24 inline bytes, plus alignment
        int bytes = 1; // the short varlena header
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            bytes += c < 0x80 ? 1 : c < 0x800 || Character.isSurrogate(c) ? 2 : 3;
        }
        return Math.min(MAX_VALUE_BYTES, bytes);
    }

    /** Adds each payload value at its event path to {@code extra} (created when null); returns it. */
    static ObjectNode add(ObjectNode extra, List<Value> values) {
        ObjectNode root = extra != null ? extra : JsonNodeFactory.instance.objectNode();
        for (Value value : values) {
            List<String> path = value.origin().eventPath();
            ObjectNode at = root;
            for (int i = 0; i < path.size() - 1; i++) {
                String key = storable(path.get(i));
                JsonNode next = at.get(key);
                at = next instanceof ObjectNode object ? object : at.putObject(key);
            }
            at.set(storable(path.getLast()), storable(value.node()));
        }
        return root;
    }

    /** The document for the jsonb column. */
    static Value value(ObjectNode extra) {
        try {
            return Value.json(JSON.writeValueAsString(extra));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Reads a stored document back (for a row that already has one). */
    static ObjectNode parse(Value stored) {
        try {
            return (ObjectNode) JSON.readTree(stored.text());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * jsonb holds neither U+0000 (written as the six characters {@code \u0000}, as in text columns) nor numbers
     * beyond PostgreSQL's numeric or non-finite doubles (kept as their text).
     */
    static JsonNode storable(JsonNode node) {
        if (node == null) return JsonNodeFactory.instance.nullNode();
        if (node.isTextual()) {
            String text = node.textValue();
            return text.indexOf('\0') < 0 ? node : JsonNodeFactory.instance.textNode(storable(text));
        }
        if (node.isNumber()) {
            if (node.isIntegralNumber() && node.canConvertToLong()) return node;
            if (node.isDouble() || node.isFloat()) {
                return Double.isFinite(node.doubleValue()) ? node : JsonNodeFactory.instance.textNode(node.asText());
            }
            BigDecimal exact = node.decimalValue();
            boolean fits = exact.precision() - exact.scale() <= 1000 && exact.scale() <= 1000;
            return fits ? node : JsonNodeFactory.instance.textNode(node.asText());
        }
        if (node.isArray()) {
            ArrayNode copy = JsonNodeFactory.instance.arrayNode();
            for (JsonNode item : node) copy.add(storable(item));
            return copy;
        }
        if (node.isObject()) {
            ObjectNode copy = JsonNodeFactory.instance.objectNode();
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> field = it.next();
                copy.set(storable(field.getKey()), storable(field.getValue()));
            }
            return copy;
        }
        return node;
    }

    static String storable(String text) {
        return text.indexOf('\0') < 0 ? text : text.replace("\0", "\\u0000");
    }
}
