package io.sluice.destination.postgres;

import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.event.ExactEvent;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.Map;

/**
 * Ids and text that PostgreSQL cannot store as sent (docs/warehouse.md, "Tables and columns" and "Types"): ids too
 * long for a primary key or holding U+0000 are hashed, empty ids are absent, and an event holding U+0000 is kept
 * whole as ASCII JSON.
 */
final class StoredIds {
    /** Longer messageIds and userIds do not fit a btree index entry (about 2,700 bytes): they are stored hashed. */
    static final int MAX_ID_BYTES = 512;
    /** The prefix of a hashed id; an id that starts with it is hashed too, so two ids never meet. */
    static final String HASHED_ID = "sha256:";
    /** The whole event, for rows whose text columns could not hold it exactly (U+0000). */
    static final String RAW_COLUMN = "_sluice_raw";
    /** The full messageId of a row whose {@code id} is hashed. */
    static final String MESSAGE_ID_COLUMN = "_sluice_message_id";

    private static final ObjectWriter ASCII_JSON =
            new ObjectMapper().writer().with(JsonWriteFeature.ESCAPE_NON_ASCII.mappedFeature());

    private StoredIds() {}

    /**
     * The id column's value for a messageId or userId: the id itself, unless it could not be a primary key or
     * would not read back exactly — longer than {@link #MAX_ID_BYTES} UTF-8 bytes, holding U+0000 or an unpaired
     * surrogate, or starting with {@code sha256:} — then {@code sha256:} + the hex SHA-256 of its UTF-16 code units.
     */
    static String storedId(String id) {
        boolean hash = id.startsWith(HASHED_ID) || id.indexOf('\0') >= 0;
        if (!hash && id.length() > MAX_ID_BYTES / 3) hash = id.getBytes(StandardCharsets.UTF_8).length > MAX_ID_BYTES;
        for (int i = 0; !hash && i < id.length(); i++) {
            char c = id.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < id.length() && Character.isLowSurrogate(id.charAt(i + 1))) i++;
            else if (Character.isSurrogate(c)) hash = true;
        }
        if (!hash) return id;
        try {
            return HASHED_ID
                    + HexFormat.of()
                            .formatHex(MessageDigest.getInstance("SHA-256")
                                    .digest(id.getBytes(StandardCharsets.UTF_16BE)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** An id field's text, or null when absent, JSON null or empty: an empty id means no id. */
    static String presentText(JsonNode node) {
        if (node == null || node.isNull() || node.isMissingNode()) return null;
        String text = node.isTextual() ? node.textValue() : node.isValueNode() ? node.asText() : node.toString();
        return text.isEmpty() ? null : text;
    }

    /**
     * Whether the event holds U+0000 in a key or a string. For an event read from bytes, JSON can only spell that
     * character as a six-character escape (backslash, 'u', four zeros; a raw control character is not JSON), so bytes
     * without that sequence answer without walking the tree; with it (which may also be an escaped backslash followed
     * by "u0000"), the tree decides.
     */
    static boolean hasNul(ObjectNode event) {
        if (event instanceof ExactEvent && !holdsNulEscape(ExactEvent.bytes(event))) return false;
        return hasNul((JsonNode) event);
    }

    private static boolean holdsNulEscape(byte[] json) {
        for (int i = 0, end = json.length - 5; i < end; i++) {
            if (json[i] == '\\'
                    && json[i + 1] == 'u'
                    && json[i + 2] == '0'
                    && json[i + 3] == '0'
                    && json[i + 4] == '0'
                    && json[i + 5] == '0') return true;
        }
        return false;
    }

    private static boolean hasNul(JsonNode node) {
        if (node.isTextual()) return node.textValue().indexOf('\0') >= 0;
        if (node.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> field = it.next();
                if (field.getKey().indexOf('\0') >= 0 || hasNul(field.getValue())) return true;
            }
        } else if (node.isArray()) {
            for (JsonNode item : node) if (hasNul(item)) return true;
        }
        return false;
    }

    /** The event as JSON with every non-ASCII character escaped: exact in any text column. */
    static String rawJson(ObjectNode event) {
        try {
            return ASCII_JSON.writeValueAsString(event);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
