package io.sluice.collector;

import io.sluice.collector.BodyReader.Output;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * Inflates a gzip body (RFC 1952) member by member in a loop over one {@link Inflater}. The JDK's GZIPInputStream
 * reads concatenated members by recursion (20,000 empty members overflowed the stack) and leaves the file name and
 * comment unbounded; here members and header fields are bounded, both CRCs and the length are checked, and
 * anything after the last member must be another member. The body is read to its end.
 */
final class GzipInflater {
    /** Clients send one member; a few are allowed for concatenating writers. */
    static final int MAX_MEMBERS = 16;
    /** Bound on each of the optional header fields (extra, file name, comment). */
    static final int MAX_HEADER_FIELD = 1024;

    private static final int FHCRC = 2, FEXTRA = 4, FNAME = 8, FCOMMENT = 16, RESERVED = 0xE0;

    private final BodyInput in;
    private final Output out;
    private final CRC32 headerCrc = new CRC32();

    GzipInflater(BodyInput in, Output out) {
        this.in = in;
        this.out = out;
    }

    void inflateAll() {
        Inflater inflater = new Inflater(true);
        try {
            int members = 0;
            while (true) {
                int first = in.readByte();
                if (first < 0) {
                    if (members == 0) throw invalid("the body is empty");
                    return;
                }
                if (++members > MAX_MEMBERS) throw invalid("more than " + MAX_MEMBERS + " gzip members");
                readHeader(first);
                inflater.reset();
                int start = out.size;
                inflateMember(inflater);
                CRC32 crc = new CRC32();
                crc.update(out.buffer, start, out.size - start);
                if (readIntLE() != (int) crc.getValue()) throw invalid("CRC mismatch");
                if (readIntLE() != out.size - start) throw invalid("length mismatch");
            }
        } catch (DataFormatException e) {
            throw invalid(e.getMessage());
        } finally {
            inflater.end();
        }
    }

    private void inflateMember(Inflater inflater) throws DataFormatException {
        while (!inflater.finished()) {
            if (inflater.needsInput()) {
                if (in.fill() < 0) throw invalid("the body ends inside compressed data");
                inflater.setInput(in.buffer, in.position, in.limit - in.position);
                in.position = in.limit;
            }
            out.ensureRoom();
            int n = inflater.inflate(out.buffer, out.size, out.buffer.length - out.size);
            if (n == 0 && inflater.needsDictionary()) throw invalid("a preset dictionary is not supported");
            out.produced(n);
        }
        in.position = in.limit - inflater.getRemaining(); // what the inflater did not use: trailer, next member
    }

    private void readHeader(int first) {
        headerCrc.reset();
        headerCrc.update(first);
        if (first != 0x1f || headerByte() != 0x8b) throw invalid("not in gzip format");
        if (headerByte() != 8) throw invalid("unsupported compression method");
        int flags = headerByte();
        if ((flags & RESERVED) != 0) throw invalid("reserved header flags set");
        for (int i = 0; i < 6; i++) headerByte(); // MTIME, XFL, OS
        if ((flags & FEXTRA) != 0) {
            int length = headerByte() | headerByte() << 8;
            if (length > MAX_HEADER_FIELD)
                throw invalid("the header's extra field is over " + MAX_HEADER_FIELD + " bytes");
            for (int i = 0; i < length; i++) headerByte();
        }
        if ((flags & FNAME) != 0) skipZeroTerminated("file name");
        if ((flags & FCOMMENT) != 0) skipZeroTerminated("comment");
        if ((flags & FHCRC) != 0) {
            int expected = (int) headerCrc.getValue() & 0xFFFF;
            if ((headerByte() | headerByte() << 8) != expected) throw invalid("header CRC mismatch");
        }
    }

    private void skipZeroTerminated(String field) {
        for (int i = 0; headerByte() != 0; i++) {
            if (i >= MAX_HEADER_FIELD)
                throw invalid("the header's " + field + " is over " + MAX_HEADER_FIELD + " bytes");
        }
    }

    private int headerByte() {
        int b = in.readByte();
        if (b < 0) throw invalid("the body ends inside a gzip header");
        headerCrc.update(b);
        return b;
    }

    private int readIntLE() {
        int value = 0;
        for (int i = 0; i < 4; i++) {
            int b = in.readByte();
            if (b < 0) throw invalid("the body ends inside a gzip trailer");
            value |= b << (8 * i);
        }
        return value;
    }

    private static Rejection invalid(String why) {
        return Rejection.badRequest("invalid_gzip", "the body is not valid gzip: " + why);
    }
}
