package io.sluice.collector;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * The checks on a body's bytes that Jackson leaves out: well-formed UTF-8 (no overlong forms, no encoded
 * surrogates, nothing above U+10FFFF) and no {@code \}{@code u} escape of an unpaired surrogate. Jackson decodes
 * both without complaint, and the damage shows later: {@code C0 AF} becomes "/", a lone surrogate becomes "?" in a
 * Kafka key, so two users share one key.
 *
 * <p>One pass over the body, eight bytes at a time: a word of ASCII without a backslash (nearly all of a typical
 * event) costs a few instructions; only words with a high bit or a backslash are looked at byte by byte.
 */
final class StrictText {
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long HIGH_BITS = 0x8080808080808080L;
    private static final long ONES = 0x0101010101010101L;
    private static final long BACKSLASHES = 0x5C5C5C5C5C5C5C5CL;

    private StrictText() {}

    /** Throws a 400 {@link Rejection} unless the body is strict UTF-8 JSON text as far as encoding goes. */
    static void check(byte[] b) {
        int n = b.length;
        // Jackson guesses UTF-16/32 from zero bytes at the start; JSON over HTTP is UTF-8 only (RFC 8259).
        for (int i = 0; i < Math.min(4, n); i++) {
            if (b[i] == 0) throw invalidUtf8(i);
        }
        int i = 0;
        while (i < n) {
            if (i + 8 <= n) {
                long word = (long) LONGS.get(b, i);
                long x = word ^ BACKSLASHES;
                if (((word | ((x - ONES) & ~x)) & HIGH_BITS) == 0) {
                    i += 8;
                    continue;
                }
            }
            int c = b[i] & 0xFF;
            if (c == '\\') {
                i = escape(b, i);
            } else if (c < 0x80) {
                i++;
            } else {
                i = multiByte(b, i, c);
            }
        }
    }

    /** Past the escape at {@code i}; a {@code \}{@code u} surrogate escape must be a high one followed by a low one. */
    private static int escape(byte[] b, int i) {
        if (i + 1 >= b.length) return i + 1; // Jackson reports the broken escape
        if (b[i + 1] != 'u') return i + 2;
        int unit = hex4(b, i + 2);
        if (unit < 0xD800 || unit > 0xDFFF) return i + 2; // also malformed \\u: Jackson's message is better
        if (unit <= 0xDBFF && i + 11 < b.length && b[i + 6] == '\\' && b[i + 7] == 'u') {
            int low = hex4(b, i + 8);
            if (low >= 0xDC00 && low <= 0xDFFF) return i + 12;
        }
        throw Rejection.badRequest(
                "lone_surrogate",
                "the body escapes an unpaired UTF-16 surrogate (\\u" + Integer.toHexString(unit) + ") at byte " + i
                        + "; strings must be valid Unicode");
    }

    private static int hex4(byte[] b, int at) {
        if (at + 4 > b.length) return -1;
        int value = 0;
        for (int k = at; k < at + 4; k++) {
            int digit = Character.digit(b[k], 16);
            if (digit < 0) return -1;
            value = value << 4 | digit;
        }
        return value;
    }

    /** Past the well-formed UTF-8 sequence starting with lead byte {@code c} at {@code i} (Unicode table 3-7). */
    private static int multiByte(byte[] b, int i, int c) {
        int length;
        int min = 0x80, max = 0xBF; // allowed range of the second byte
        if (c >= 0xC2 && c <= 0xDF) {
            length = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            length = 3;
            if (c == 0xE0) min = 0xA0; // overlong
            if (c == 0xED) max = 0x9F; // surrogates U+D800..U+DFFF
        } else if (c >= 0xF0 && c <= 0xF4) {
            length = 4;
            if (c == 0xF0) min = 0x90; // overlong
            if (c == 0xF4) max = 0x8F; // above U+10FFFF
        } else {
            throw invalidUtf8(i); // a continuation byte, C0/C1 (overlong) or F5..FF
        }
        if (i + length > b.length) throw invalidUtf8(i);
        int second = b[i + 1] & 0xFF;
        if (second < min || second > max) throw invalidUtf8(i);
        for (int k = i + 2; k < i + length; k++) {
            if ((b[k] & 0xC0) != 0x80) throw invalidUtf8(i);
        }
        return i + length;
    }

    private static Rejection invalidUtf8(int at) {
        return Rejection.badRequest(
                "invalid_utf8",
                "the body is not valid UTF-8 at byte " + at
                        + " (overlong forms, encoded surrogates and other encodings are refused)");
    }
}
