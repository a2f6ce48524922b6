package io.sluice.collector;

import io.sluice.collector.InFlightLimiter.Reservation;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.TimeoutException;
import org.eclipse.jetty.http.HttpException;

/**
 * The request body as it comes off the connection: counts every byte into the request's {@link Reservation} and
 * turns the transport's failures into the rule that describes them, so that a connection problem is never
 * reported as bad gzip: the body ended before its Content-Length or chunked end ({@code truncated_body}), its
 * chunked framing is broken ({@code invalid_framing}), or it arrived slower than Jetty's minimum data rate or not
 * within the idle timeout ({@code body_too_slow}, 408, and the connection is closed).
 *
 * <p>It also buffers, for the gzip reader, which needs to look at single bytes and hand the rest to the inflater.
 */
final class BodyInput {
    private final InputStream raw;
    private final Reservation reservation;
    byte[] buffer; // only gzip bodies need it: allocated on the first fill()
    int position;
    int limit;

    BodyInput(InputStream raw, Reservation reservation) {
        this.raw = raw;
        this.reservation = reservation;
    }

    /** Like {@link InputStream#read(byte[], int, int)} on the connection, bypassing the buffer (for plain bodies). */
    int read(byte[] target, int offset, int length) {
        if (position < limit) {
            int n = Math.min(length, limit - position);
            System.arraycopy(buffer, position, target, offset, n);
            position += n;
            return n;
        }
        return transport(target, offset, length);
    }

    /** Refills the empty buffer; the number of bytes now buffered, or -1 at the end of the body. */
    int fill() {
        if (position < limit) return limit - position;
        if (buffer == null) buffer = new byte[8192];
        int n = transport(buffer, 0, buffer.length);
        position = 0;
        limit = Math.max(n, 0);
        return n;
    }

    /** The next byte, or -1 at the end of the body. */
    int readByte() {
        if (position == limit && fill() < 0) return -1;
        return buffer[position++] & 0xFF;
    }

    private int transport(byte[] target, int offset, int length) {
        try {
            int n = raw.read(target, offset, length);
            if (n > 0) reservation.grow(n);
            return n;
        } catch (IOException | RuntimeException e) {
            if (e instanceof Rejection rejection) throw rejection;
            throw translate(e);
        }
    }

    static Rejection translate(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof HttpException http && http.getCode() == 408) {
                return Rejection.timeout(
                        "body_too_slow",
                        "the body arrived slower than the minimum data rate; the connection is closed");
            }
            if (t instanceof TimeoutException) {
                return Rejection.timeout(
                        "body_too_slow",
                        "the rest of the body did not arrive within the idle timeout; the connection is closed");
            }
        }
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            // Jetty reports a connection that ends mid-body, and also a broken chunk (after which it closes the
            // connection), as "400 Early EOF": the two cannot be told apart here.
            if (t instanceof EOFException
                    || (t instanceof HttpException http
                            && String.valueOf(http.getReason()).contains("EOF"))) {
                return Rejection.badRequest(
                        "truncated_body",
                        "the body ended before its declared Content-Length or chunked end, "
                                + "or its chunked framing is broken");
            }
        }
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof HttpException http) {
                return Rejection.badRequest(
                        "invalid_framing",
                        "the body's HTTP framing is broken (" + http.getCode() + " " + http.getReason() + ")");
            }
        }
        return Rejection.badRequest(
                "unreadable_body",
                "the body could not be read: " + failure.getClass().getSimpleName());
    }
}
