package io.sluice.support;

import java.io.ByteArrayOutputStream;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/** gzip members built by hand (RFC 1952), with the optional header fields and deliberate faults tests need. */
public final class Gzip {
    private Gzip() {}

    /** A plain member: no optional fields. */
    public static byte[] member(byte[] data) {
        return member(data, null, null, null, false, false);
    }

    /**
     * @param name FNAME (null: absent), @param comment FCOMMENT, @param extra FEXTRA payload, @param headerCrc
     * FHCRC, @param wrongCrc a trailer CRC that does not match the data
     */
    public static byte[] member(
            byte[] data, byte[] name, byte[] comment, byte[] extra, boolean headerCrc, boolean wrongCrc) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int flags = (headerCrc ? 2 : 0) | (extra != null ? 4 : 0) | (name != null ? 8 : 0) | (comment != null ? 16 : 0);
        out.writeBytes(new byte[] {0x1f, (byte) 0x8b, 8, (byte) flags, 0, 0, 0, 0, 0, (byte) 255});
        if (extra != null) {
            out.write(extra.length & 0xFF);
            out.write(extra.length >>> 8 & 0xFF);
            out.writeBytes(extra);
        }
        if (name != null) {
            out.writeBytes(name);
            out.write(0);
        }
        if (comment != null) {
            out.writeBytes(comment);
            out.write(0);
        }
        if (headerCrc) {
            CRC32 crc = new CRC32();
            crc.update(out.toByteArray());
            out.write((int) crc.getValue() & 0xFF);
            out.write((int) (crc.getValue() >>> 8) & 0xFF);
        }
        Deflater deflater = new Deflater(Deflater.DEFAULT_COMPRESSION, true);
        deflater.setInput(data);
        deflater.finish();
        byte[] buffer = new byte[8192];
        while (!deflater.finished()) out.write(buffer, 0, deflater.deflate(buffer));
        deflater.end();
        CRC32 crc = new CRC32();
        crc.update(data);
        intLE(out, (int) crc.getValue() ^ (wrongCrc ? 1 : 0));
        intLE(out, data.length);
        return out.toByteArray();
    }

    /** {@code count} copies of a member, concatenated. */
    public static byte[] repeat(byte[] member, int count) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < count; i++) out.writeBytes(member);
        return out.toByteArray();
    }

    private static void intLE(ByteArrayOutputStream out, int value) {
        for (int i = 0; i < 4; i++) out.write(value >>> (8 * i) & 0xFF);
    }
}
