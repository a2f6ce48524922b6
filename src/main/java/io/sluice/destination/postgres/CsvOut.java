package io.sluice.destination.postgres;

import io.sluice.event.IsoTimestamps;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.time.Instant;
import org.postgresql.copy.CopyIn;

/**
 * COPY data in CSV, encoded straight to UTF-8 into one reused buffer that is handed to the server whenever it
 * fills: no StringBuilder, no intermediate String, no whole-batch byte array. NULL is an empty unquoted field,
 * every value is quoted with quotes doubled.
 */
final class CsvOut {
    private static final int SIZE = 64 * 1024;
    /** Room for the longest fixed-size item (a formatted timestamp, a 4-byte character) before a flush. */
    private static final int RESERVE = 40;

    private final byte[] buf = new byte[SIZE];
    private int pos;
    private CopyIn copy;

    /** Starts writing into a COPY in progress. */
    CsvOut to(CopyIn copy) {
        this.copy = copy;
        this.pos = 0;
        return this;
    }

    /** Sends what is buffered and ends the COPY; returns the rows the server stored. */
    long end() throws SQLException {
        flush();
        CopyIn done = copy;
        copy = null;
        return done.endCopy();
    }

    private void flush() throws SQLException {
        if (pos > 0) copy.writeToCopy(buf, 0, pos);
        pos = 0;
    }

    private void room(int bytes) throws SQLException {
        if (pos + bytes > SIZE) flush();
    }

    void comma() throws SQLException {
        room(1);
        buf[pos++] = ',';
    }

    void newline() throws SQLException {
        room(1);
        buf[pos++] = '\n';
    }

    /** Short unquoted ASCII (table numbers, the load's timestamp). */
    void raw(String ascii) throws SQLException {
        int n = ascii.length();
        if (n > SIZE - RESERVE) throw new IllegalArgumentException("not a short field: " + n + " characters");
        room(n);
        ascii.getBytes(0, n, buf, pos); // deprecated but exact for ASCII, and a plain copy
        pos += n;
    }

    void raw(int number) throws SQLException {
        raw(Integer.toString(number));
    }

    /** A timestamp value without DateTimeFormatter. */
    void quoted(Instant instant) throws SQLException {
        room(RESERVE);
        buf[pos++] = '"';
        int end = IsoTimestamps.formatMicros(instant, buf, pos);
        if (end < 0) {
            pos--;
            quotedText(instant.toString());
            return;
        }
        pos = end;
        buf[pos++] = '"';
    }

    /** A value's quoted field, from the bytes it keeps (encoded on first use). */
    void quoted(Value value, boolean asText) throws SQLException {
        byte[] bytes = value.csv(asText);
        if (bytes.length > SIZE - 2) {
            quotedText(asText ? value.text() : value.typed());
            return;
        }
        room(bytes.length + 2);
        buf[pos++] = '"';
        System.arraycopy(bytes, 0, buf, pos, bytes.length);
        pos += bytes.length;
        buf[pos++] = '"';
    }

    /** A CSV field's content: quotes doubled, UTF-8 (an unpaired surrogate becomes '?', as everywhere in Java). */
    static byte[] escaped(String text) {
        return (text.indexOf('"') < 0 ? text : text.replace("\"", "\"\"")).getBytes(StandardCharsets.UTF_8);
    }

    /** A quoted field: quotes doubled, UTF-8. */
    void quotedText(String text) throws SQLException {
        int n = text.length();
        if (n < SIZE / 4 && text.indexOf('"') < 0) {
            // the usual value: no quote to double, so the JDK's vectorised encoder does the work
            byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
            room(bytes.length + 2);
            buf[pos++] = '"';
            System.arraycopy(bytes, 0, buf, pos, bytes.length);
            pos += bytes.length;
            buf[pos++] = '"';
            return;
        }
        room(2);
        buf[pos++] = '"';
        int i = 0;
        while (i < n) {
            if (pos + RESERVE >= SIZE) flush();
            // a run of ASCII up to the buffer's end
            int limit = Math.min(n, i + (SIZE - RESERVE - pos));
            while (i < limit) {
                char c = text.charAt(i);
                if (c >= 0x80 || c == '"') break;
                buf[pos++] = (byte) c;
                i++;
            }
            if (i >= n) break;
            char c = text.charAt(i);
            if (c == '"') {
                buf[pos++] = '"';
                buf[pos++] = '"';
                i++;
            } else if (c < 0x80) {
                continue; // the run stopped at the buffer's end
            } else if (c < 0x800) {
                buf[pos++] = (byte) (0xC0 | (c >> 6));
                buf[pos++] = (byte) (0x80 | (c & 0x3F));
                i++;
            } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(text.charAt(i + 1))) {
                int cp = Character.toCodePoint(c, text.charAt(i + 1));
                buf[pos++] = (byte) (0xF0 | (cp >> 18));
                buf[pos++] = (byte) (0x80 | ((cp >> 12) & 0x3F));
                buf[pos++] = (byte) (0x80 | ((cp >> 6) & 0x3F));
                buf[pos++] = (byte) (0x80 | (cp & 0x3F));
                i += 2;
            } else if (Character.isSurrogate(c)) {
                buf[pos++] = '?'; // an unpaired surrogate, as String.getBytes(UTF_8) writes it
                i++;
            } else {
                buf[pos++] = (byte) (0xE0 | (c >> 12));
                buf[pos++] = (byte) (0x80 | ((c >> 6) & 0x3F));
                buf[pos++] = (byte) (0x80 | (c & 0x3F));
                i++;
            }
        }
        room(1);
        buf[pos++] = '"';
    }
}
