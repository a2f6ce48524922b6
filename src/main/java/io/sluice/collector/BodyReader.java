package io.sluice.collector;

import io.sluice.collector.InFlightLimiter.Reservation;
import java.io.InputStream;
import java.util.Arrays;
import java.util.Locale;

/**
 * Reads a request body into memory, never more than the limit: a body (or a gzip stream's decompressed output)
 * that would pass it is refused with 413 as soon as the limit is crossed, so a gzip bomb costs at most
 * {@code limit} bytes. Every byte read or inflated is added to the request's in-flight {@link Reservation} as it
 * arrives. The body is always read to its end, so a body shorter than its Content-Length is noticed
 * ({@link BodyInput}) even when its gzip stream looks complete.
 */
final class BodyReader {
    private final long limit;

    BodyReader(long limit) {
        this.limit = limit;
    }

    /** @param declared the Content-Length, or -1: sizes the buffer of a plain body (see {@link Output}) */
    byte[] read(InputStream raw, String contentEncoding, long declared, Reservation reservation) {
        String encoding = contentEncoding == null ? "" : contentEncoding.trim().toLowerCase(Locale.ROOT);
        BodyInput in = new BodyInput(raw, reservation);
        return switch (encoding) {
            case "", "identity" -> readPlain(in, new Output(reservation, false, declared));
            case "gzip", "x-gzip" -> {
                Output out = new Output(reservation, true, -1);
                new GzipInflater(in, out).inflateAll();
                yield out.toArray();
            }
            default ->
                throw Rejection.badRequest(
                        "unsupported_encoding",
                        "Content-Encoding '" + contentEncoding + "' is not supported; use gzip");
        };
    }

    private byte[] readPlain(BodyInput in, Output out) {
        byte[] probe = null;
        while (true) {
            if (out.size == out.buffer.length && out.size == out.expected) {
                // Exactly the declared length is in: look for the end without growing the buffer for it.
                if (probe == null) probe = new byte[1];
                if (in.read(probe, 0, 1) < 0) break;
                out.ensureRoom();
                out.buffer[out.size++] = probe[0];
                if (out.size > limit) throw tooLarge();
                continue;
            }
            out.ensureRoom();
            int n = in.read(out.buffer, out.size, out.buffer.length - out.size);
            if (n < 0) break;
            out.size += n;
            if (out.size > limit) throw tooLarge();
        }
        return out.toArray();
    }

    /**
     * A growing buffer bounded by the limit; inflated bytes are added to the reservation (raw ones already are).
     * With a declared length it grows faster (x4) and so as to end exactly there (no copy to trim it), but never
     * to more than four times what has arrived: what a client declares is not allocated before it is sent, so a
     * slow body claiming 500 KB costs 8 KB until it really sends more.
     */
    final class Output {
        byte[] buffer;
        int size;
        final long expected;
        private final Reservation reservation;
        private final boolean count;

        Output(Reservation reservation, boolean count, long declared) {
            this.reservation = reservation;
            this.count = count;
            this.expected = declared > 0 && declared <= limit ? declared : -1;
            this.buffer = new byte[expected > 0 ? (int) Math.min(expected, 8192) : 8192];
        }

        void ensureRoom() {
            if (size < buffer.length) return;
            if (size > limit) throw tooLarge();
            long next = expected > size ? Math.min((long) size * 4, expected) : Math.min((long) size * 2, limit + 1);
            // A plain body's raw bytes are counted as they arrive; the room allocated ahead of them is reserved
            // here, so the in-flight budget bounds the buffers really allocated (up to 4x the bytes received).
            if (!count) reservation.cover(next);
            buffer = Arrays.copyOf(buffer, (int) next);
        }

        void produced(int n) {
            size += n;
            if (size > limit) throw tooLarge();
            if (count) reservation.grow(n);
        }

        byte[] toArray() {
            return size == buffer.length ? buffer : Arrays.copyOf(buffer, size);
        }
    }

    private Rejection tooLarge() {
        return Rejection.tooLarge(
                "request_too_large", "the request body exceeds " + limit + " bytes (after decompression)", -1);
    }
}
