package io.sluice.collector;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reads a request body into memory, never more than the limit: a body (or a gzip stream's decompressed output)
 * that would pass it is refused with 413 as soon as the limit is crossed, so a gzip bomb costs at most
 * {@code limit} bytes.
 */
final class BodyReader {
    private final long limit;

    BodyReader(long limit) {
        this.limit = limit;
    }

    byte[] read(InputStream raw, String contentEncoding) {
        String encoding = contentEncoding == null ? "" : contentEncoding.trim().toLowerCase(java.util.Locale.ROOT);
        try {
            return switch (encoding) {
                case "", "identity" -> readBounded(raw);
                case "gzip", "x-gzip" -> readBounded(new GZIPInputStream(raw, 8192));
                default -> throw Rejection.badRequest("unsupported_encoding", "Content-Encoding '" + contentEncoding + "' is not supported; use gzip");
            };
        } catch (ZipException | java.io.EOFException e) {
            throw Rejection.badRequest("invalid_gzip", "the body is not valid gzip: " + e.getMessage());
        } catch (IOException e) {
            throw Rejection.badRequest("unreadable_body", "the body could not be read: " + e.getMessage());
        }
    }

    private byte[] readBounded(InputStream in) throws IOException {
        byte[] buffer = new byte[8192];
        int size = 0;
        while (true) {
            if (size == buffer.length) {
                if (size > limit) throw tooLarge();
                buffer = Arrays.copyOf(buffer, (int) Math.min((long) size * 2, limit + 1));
            }
            int n = in.read(buffer, size, buffer.length - size);
            if (n < 0) break;
            size += n;
            if (size > limit) throw tooLarge();
        }
        return size == buffer.length ? buffer : Arrays.copyOf(buffer, size);
    }

    private Rejection tooLarge() {
        return Rejection.tooLarge("request_too_large", "the request body exceeds " + limit + " bytes (after decompression)", -1);
    }
}
