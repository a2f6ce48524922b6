package io.sluice.destination.postgres;

import java.sql.SQLException;
import org.postgresql.copy.CopyIn;

/**
 * COPY data in PostgreSQL's binary format ({@code COPY … FROM STDIN (FORMAT binary)}), into one reused buffer that is
 * handed to the server whenever it fills. The server then parses no text: a timestamp arrives as its microseconds,
 * a number as its eight bytes, a text value as its UTF-8 bytes with their length (no quoting, no escaping). Only for
 * the column types Sluice creates ({@link #encodes}); the value's typed form is what the CSV path would have sent,
 * so the stored value is the same either way.
 */
final class BinaryOut {
    private static final int SIZE = 64 * 1024;
    private static final byte[] SIGNATURE = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', (byte) 0xFF, '\r', '\n', 0};
    /** Microseconds from the Unix epoch to PostgreSQL's (2000-01-01T00:00:00Z). */
    private static final long POSTGRES_EPOCH_MICROS = 946_684_800_000_000L;
    /** jsonb's binary form: a version byte, then the JSON text. */
    private static final byte JSONB_VERSION = 1;

    private final byte[] buf = new byte[SIZE];
    private int pos;
    private CopyIn copy;

    /** Whether every column of this type can be written by {@link #value}. */
    static boolean encodes(ColumnType type) {
        return type != null && type != ColumnType.OTHER;
    }

    /** Starts writing into a COPY in progress: the header. */
    BinaryOut to(CopyIn copy) throws SQLException {
        this.copy = copy;
        this.pos = 0;
        bytes(SIGNATURE, 0, SIGNATURE.length);
        int32(0); // flags: no OIDs
        int32(0); // no header extension
        return this;
    }

    /** The trailer, then sends what is buffered and ends the COPY; returns the rows the server stored. */
    long end() throws SQLException {
        int16(-1);
        if (pos > 0) copy.writeToCopy(buf, 0, pos);
        pos = 0;
        CopyIn done = copy;
        copy = null;
        return done.endCopy();
    }

    /** Starts a row of {@code fields} fields. */
    void row(int fields) throws SQLException {
        int16(fields);
    }

    void nullField() throws SQLException {
        int32(-1);
    }

    /** A timestamptz field from microseconds since the Unix epoch. */
    void timestampMicros(long epochMicros) throws SQLException {
        int32(8);
        int64(epochMicros - POSTGRES_EPOCH_MICROS);
    }

    /**
     * The value as its column's type takes it. The typed form is what the CSV path sends (the column accepts the
     * value's kind, see {@link ColumnType#accepts}), parsed here instead of by the server.
     */
    void value(Value value, ColumnType type) throws SQLException {
        switch (type) {
            case TEXT -> text(value);
            case BOOLEAN -> {
                int32(1);
                room(1);
                buf[pos++] = (byte) (value.typed().equals("true") ? 1 : 0);
            }
            case BIGINT -> {
                int32(8);
                int64(Long.parseLong(value.typed()));
            }
            case DOUBLE -> {
                int32(8);
                // the same correctly rounded double PostgreSQL's float8in makes of this text
                int64(Double.doubleToRawLongBits(Double.parseDouble(value.typed())));
            }
            case TIMESTAMPTZ -> timestampMicros(value.micros()); // the column takes TIMESTAMP values only
            case JSONB -> {
                byte[] json = value.utf8(false);
                int32(json.length + 1);
                room(1);
                buf[pos++] = JSONB_VERSION;
                bytes(json, 0, json.length);
            }
            case OTHER -> throw new IllegalArgumentException("no binary form for a column of another type");
        }
    }

    /**
     * A text field: ASCII straight into the buffer (no byte array per value), anything else through the JDK's UTF-8
     * encoder ({@link Value#utf8}: an unpaired surrogate becomes '?', as in the CSV path).
     */
    private void text(Value value) throws SQLException {
        String text = value.text();
        int n = text.length();
        if (n <= SIZE / 4) {
            room(4 + n);
            int at = pos + 4;
            int seen = 0;
            for (int i = 0; i < n; i++) {
                char c = text.charAt(i);
                seen |= c;
                buf[at + i] = (byte) c;
            }
            if (seen < 0x80) {
                int32(n);
                pos += n;
                return;
            }
        }
        byte[] utf8 = value.utf8(true);
        int32(utf8.length);
        bytes(utf8, 0, utf8.length);
    }

    private void bytes(byte[] bytes, int from, int length) throws SQLException {
        while (length > 0) {
            if (pos == SIZE) flush();
            int n = Math.min(length, SIZE - pos);
            System.arraycopy(bytes, from, buf, pos, n);
            pos += n;
            from += n;
            length -= n;
        }
    }

    private void int16(int v) throws SQLException {
        room(2);
        buf[pos++] = (byte) (v >>> 8);
        buf[pos++] = (byte) v;
    }

    private void int32(int v) throws SQLException {
        room(4);
        buf[pos++] = (byte) (v >>> 24);
        buf[pos++] = (byte) (v >>> 16);
        buf[pos++] = (byte) (v >>> 8);
        buf[pos++] = (byte) v;
    }

    private void int64(long v) throws SQLException {
        int32((int) (v >>> 32));
        int32((int) v);
    }

    private void room(int bytes) throws SQLException {
        if (pos + bytes > SIZE) flush();
    }

    private void flush() throws SQLException {
        if (pos > 0) copy.writeToCopy(buf, 0, pos);
        pos = 0;
    }
}
