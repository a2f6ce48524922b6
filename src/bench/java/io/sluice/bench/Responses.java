package io.sluice.bench;

import java.io.IOException;

/**
 * Byte-level HTTP/1.1 response framing for {@link HttpLoad}: finds the end of the head, reads the status code and
 * the headers that decide framing, and consumes one complete response (Content-Length or chunked body) from the
 * connection's input buffer. No strings are built, so parsing costs next to nothing.
 */
final class Responses {
    private Responses() {}

    /** The status of the complete response at the start of {@code c.in}, consumed; -1 when more bytes are needed. */
    static int consume(HttpLoad.Conn c) throws IOException {
        byte[] a = c.in.array();
        int n = c.in.position();
        int headEnd = indexOfBlankLine(a, n);
        if (headEnd < 0) return -1;
        if (headEnd < 12 || a[0] != 'H' || a[8] != ' ') throw new IOException("not an HTTP/1.1 response");
        int status = (a[9] - '0') * 100 + (a[10] - '0') * 10 + (a[11] - '0');
        long contentLength = -1;
        boolean chunked = false;
        boolean close = false;
        int line = indexOfCrlf(a, 0, headEnd + 2) + 2;
        while (line < headEnd) {
            int eol = indexOfCrlf(a, line, headEnd + 2);
            if (startsWith(a, line, eol, "content-length:")) contentLength = parseDecimal(a, line + 15, eol);
            else if (startsWith(a, line, eol, "transfer-encoding:")) chunked = contains(a, line, eol, "chunked");
            else if (startsWith(a, line, eol, "connection:")) close = contains(a, line, eol, "close");
            line = eol + 2;
        }
        int bodyStart = headEnd + 4;
        int end;
        if (chunked) {
            end = chunkedEnd(a, bodyStart, n);
            if (end < 0) return -1;
        } else {
            end = bodyStart + (int) Math.max(0, contentLength);
            if (contentLength < 0) close = true; // body runs to EOF: unusual for our endpoints, do not reuse
            if (end > n) return -1;
        }
        System.arraycopy(a, end, a, 0, n - end);
        c.in.position(n - end);
        c.closeAfterResponse = close;
        return status;
    }

    /** Offset just past the last chunk (and its empty trailer), or -1 when incomplete. */
    private static int chunkedEnd(byte[] a, int pos, int n) throws IOException {
        while (true) {
            int eol = indexOfCrlf(a, pos, n);
            if (eol < 0) return -1;
            long size = 0;
            for (int i = pos; i < eol && a[i] != ';'; i++) {
                int d = Character.digit(a[i], 16);
                if (d < 0) throw new IOException("bad chunk size");
                size = size * 16 + d;
            }
            pos = eol + 2;
            if (size == 0) {
                int trailerEnd = indexOfBlankLineFrom(a, pos - 2, n);
                return trailerEnd < 0 ? -1 : trailerEnd + 4;
            }
            pos += (int) size + 2;
            if (pos > n) return -1;
        }
    }

    private static int indexOfBlankLine(byte[] a, int n) {
        return indexOfBlankLineFrom(a, 0, n);
    }

    private static int indexOfBlankLineFrom(byte[] a, int from, int n) {
        for (int i = from; i + 3 < n; i++) {
            if (a[i] == '\r' && a[i + 1] == '\n' && a[i + 2] == '\r' && a[i + 3] == '\n') return i;
        }
        return -1;
    }

    private static int indexOfCrlf(byte[] a, int from, int n) {
        for (int i = from; i + 1 < n; i++) {
            if (a[i] == '\r' && a[i + 1] == '\n') return i;
        }
        return -1;
    }

    private static boolean startsWith(byte[] a, int from, int to, String lowerPrefix) {
        if (to - from < lowerPrefix.length()) return false;
        for (int i = 0; i < lowerPrefix.length(); i++) {
            if (Character.toLowerCase(a[from + i]) != lowerPrefix.charAt(i)) return false;
        }
        return true;
    }

    private static boolean contains(byte[] a, int from, int to, String lowerWord) {
        for (int i = from; i + lowerWord.length() <= to; i++) {
            if (startsWith(a, i, to, lowerWord)) return true;
        }
        return false;
    }

    private static long parseDecimal(byte[] a, int from, int to) {
        long value = 0;
        for (int i = from; i < to; i++) {
            if (a[i] >= '0' && a[i] <= '9') value = value * 10 + (a[i] - '0');
        }
        return value;
    }
}
