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

    byte[] read(InputStream raw, String contentEncoding, Reservation reservation) {
        String encoding = contentEncoding == null ? "" : contentEncoding.trim().toLowerCase(Locale.ROOT);
        BodyInput in = new BodyInput(raw, reservation);
        return switch (encoding) {
            case "", "identity" -> readPlain(in, reservation);
            case "gzip", "x-gzip" -> {
                Output out = new Output(reservation, true);
                new GzipInflater(in, out).inflateAll();
                yield out.toArray();
            }
            default ->
                throw Rejection.badRequest(
                        "unsupported_encoding",
                        "Content-Encoding '" + contentEncoding + "' is not supported; use gzip");
        };
    }

    private byte[] readPlain(BodyInput in, Reservation reservation) {
        Output out = new Output(reservation, false);
        while (true) {
            out.ensureRoom();
            int n = in.read(out.buffer, out.size, out.buffer.length - out.size);
            if (n < 0) break;
            out.size += n;
            if (out.size > limit) throw tooLarge();
        }
        return out.toArray();
    }

    /** A growing buffer bounded by the limit; inflated bytes are added to the reservation (raw ones already are). */
    final class Output {
        byte[] buffer = new byte[8192];
        int size;
        private final Reservation reservation;
        private final boolean count;

        Output(Reservation reservation, boolean count) {
            this.reservation = reservation;
            this.count = count;
        }

        void ensureRoom() {
            if (size < buffer.length) return;
            if (size > limit) throw tooLarge();
            buffer = Arrays.copyOf(buffer, (int) Math.min((long) size * 2, limit + 1));
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
