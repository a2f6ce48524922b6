package io.sluice.event;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Ids and other client text (messageIds, user ids) kept exactly, whatever they hold: U+0000, a lone surrogate (a
 * function can make one; the collector refuses them), newlines, 10 KB. Three forms, each a one-to-one function of the
 * text, so two different ids never meet in any of them:
 *
 * <ul>
 *   <li>{@link #bytes}: UTF-8, and for a lone surrogate the three bytes UTF-8 would give its code point
 *       (generalised UTF-8, "WTF-8"). For every valid string the same as {@code getBytes(UTF_8)}, which replaces a
 *       lone surrogate by {@code ?} and so makes different ids equal.
 *   <li>{@link #key}: SHA-256 of those bytes, what unique indexes hold (an index entry cannot hold 10 KB).
 *   <li>{@link #stored}: the text for a PostgreSQL {@code text} column, which cannot hold U+0000 (or a lone
 *       surrogate): {@code \} becomes {@code \\}, U+0000 {@code \u0000}, a lone surrogate {@code \}{@code uXXXX};
 *       everything else as is. {@link #unstored} undoes it.
 * </ul>
 */
public final class ExactText {
    private static final HexFormat HEX = HexFormat.of();

    private ExactText() {}

    /** The text's UTF-8 bytes, lone surrogates included as their own three bytes (see the class comment). */
    public static byte[] bytes(String text) {
        if (!hasLoneSurrogate(text)) return text.getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[text.length() * 3];
        int n = 0;
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i); // a lone surrogate comes back as itself
            i += Character.charCount(cp);
            if (cp < 0x80) {
                out[n++] = (byte) cp;
            } else if (cp < 0x800) {
                out[n++] = (byte) (0xC0 | cp >> 6);
                out[n++] = (byte) (0x80 | cp & 0x3F);
            } else if (cp < 0x10000) {
                out[n++] = (byte) (0xE0 | cp >> 12);
                out[n++] = (byte) (0x80 | cp >> 6 & 0x3F);
                out[n++] = (byte) (0x80 | cp & 0x3F);
            } else {
                out[n++] = (byte) (0xF0 | cp >> 18);
                out[n++] = (byte) (0x80 | cp >> 12 & 0x3F);
                out[n++] = (byte) (0x80 | cp >> 6 & 0x3F);
                out[n++] = (byte) (0x80 | cp & 0x3F);
            }
        }
        return java.util.Arrays.copyOf(out, n);
    }

    /** SHA-256 of {@code kind} then {@link #bytes} of the text: 32 bytes, for unique indexes. */
    public static byte[] key(char kind, String text) {
        return key(kind, bytes(text));
    }

    /** SHA-256 of {@code kind} (one ASCII byte, so keys of different kinds never meet) then {@code bytes}. */
    public static byte[] key(char kind, byte[] bytes) {
        MessageDigest sha = sha256();
        sha.update((byte) kind);
        return sha.digest(bytes);
    }

    /** SHA-256 of the text's {@link #bytes}, in lowercase hex. */
    public static String sha256Hex(String text) {
        return HEX.formatHex(sha256().digest(bytes(text)));
    }

    /** The text as a PostgreSQL {@code text} column holds it (see the class comment); null for null. */
    public static String stored(String text) {
        if (text == null) return null;
        if (text.indexOf('\\') < 0 && text.indexOf('\0') < 0 && !hasLoneSurrogate(text)) return text;
        StringBuilder out = new StringBuilder(text.length() + 16);
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\\') out.append("\\\\");
            else if (c == '\0' || isLone(text, i)) out.append(String.format("\\u%04x", (int) c));
            else out.append(c);
        }
        return out.toString();
    }

    /**
     * Human text (an error message, which may quote an id or a response body) for a {@code text} column: U+0000 as
     * U+FFFD. Not reversible, and need not be: it is read, never matched.
     */
    public static String readable(String text) {
        return text == null || text.indexOf('\0') < 0 ? text : text.replace('\0', '\uFFFD');
    }

    /** The text {@link #stored} was given; null for null. */
    public static String unstored(String column) {
        if (column == null || column.indexOf('\\') < 0) return column;
        StringBuilder out = new StringBuilder(column.length());
        for (int i = 0; i < column.length(); i++) {
            char c = column.charAt(i);
            if (c != '\\' || i + 1 == column.length()) {
                out.append(c);
            } else if (column.charAt(i + 1) == 'u' && i + 6 <= column.length()) {
                out.append((char) Integer.parseInt(column, i + 2, i + 6, 16));
                i += 5;
            } else {
                out.append(column.charAt(++i));
            }
        }
        return out.toString();
    }

    private static boolean hasLoneSurrogate(String text) {
        for (int i = 0; i < text.length(); i++) {
            if (Character.isSurrogate(text.charAt(i)) && isLone(text, i)) return true;
        }
        return false;
    }

    /** Whether the char at i is a surrogate that is not half of a pair. */
    private static boolean isLone(String text, int i) {
        char c = text.charAt(i);
        if (Character.isHighSurrogate(c))
            return i + 1 == text.length() || !Character.isLowSurrogate(text.charAt(i + 1));
        if (Character.isLowSurrogate(c)) return i == 0 || !Character.isHighSurrogate(text.charAt(i - 1));
        return false;
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }
}
