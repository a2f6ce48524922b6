package io.sluice.archive;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;

/**
 * The content of an archive file (inside its gzip stream): a magic line, then each record as Kafka returned it —
 * offset, timestamp and its type, key, value and headers, byte for byte (a null key or value stays null) — and an
 * end mark with the range's end offset, so a truncated file is recognised and never read as complete. Big-endian
 * {@link DataOutputStream} framing; lengths of -1 mean null.
 */
final class ArchiveFormat {
    private static final byte[] MAGIC = "SLUICE-ARCHIVE 1\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte RECORD = 1;
    private static final byte END = 2;

    private ArchiveFormat() {}

    static void writeHeader(DataOutputStream out) throws IOException {
        out.write(MAGIC);
    }

    static void write(DataOutputStream out, ConsumerRecord<byte[], byte[]> record) throws IOException {
        out.writeByte(RECORD);
        out.writeLong(record.offset());
        out.writeLong(record.timestamp());
        out.writeByte(record.timestampType().id);
        bytes(out, record.key());
        bytes(out, record.value());
        Header[] headers = record.headers().toArray();
        out.writeInt(headers.length);
        for (Header h : headers) {
            bytes(out, h.key().getBytes(StandardCharsets.UTF_8));
            bytes(out, h.value());
        }
    }

    static void writeEnd(DataOutputStream out, long end) throws IOException {
        out.writeByte(END);
        out.writeLong(end);
    }

    static void readHeader(DataInputStream in, String name) throws IOException {
        byte[] magic = new byte[MAGIC.length];
        in.readFully(magic);
        if (!java.util.Arrays.equals(magic, MAGIC)) throw new IOException(name + " is not a Sluice archive file");
    }

    /** The next record, or empty at the end mark (whose offset must be the file's end). */
    static Optional<ConsumerRecord<byte[], byte[]>> read(
            DataInputStream in, String topic, int partition, long end, String name) throws IOException {
        byte kind;
        try {
            kind = in.readByte();
        } catch (EOFException e) {
            throw new IOException(name + " ends without its end mark", e);
        }
        if (kind == END) {
            long written = in.readLong();
            if (written != end) throw new IOException(name + " ends at offset " + written + ", its name says " + end);
            return Optional.empty();
        }
        if (kind != RECORD) throw new IOException(name + " is damaged (record kind " + kind + ")");
        long offset = in.readLong();
        long timestamp = in.readLong();
        TimestampType type = timestampType(in.readByte());
        byte[] key = bytes(in);
        byte[] value = bytes(in);
        int count = in.readInt();
        RecordHeaders headers = new RecordHeaders();
        for (int i = 0; i < count; i++) headers.add(new String(bytes(in), StandardCharsets.UTF_8), bytes(in));
        return Optional.of(new ConsumerRecord<>(
                topic,
                partition,
                offset,
                timestamp,
                type,
                key == null ? -1 : key.length,
                value == null ? -1 : value.length,
                key,
                value,
                headers,
                Optional.empty()));
    }

    private static TimestampType timestampType(byte id) {
        for (TimestampType t : TimestampType.values()) if (t.id == id) return t;
        return TimestampType.NO_TIMESTAMP_TYPE;
    }

    private static void bytes(DataOutputStream out, byte[] bytes) throws IOException {
        if (bytes == null) {
            out.writeInt(-1);
            return;
        }
        out.writeInt(bytes.length);
        out.write(bytes);
    }

    private static byte[] bytes(DataInputStream in) throws IOException {
        int length = in.readInt();
        if (length < 0) return null;
        byte[] bytes = new byte[length];
        in.readFully(bytes);
        return bytes;
    }
}
