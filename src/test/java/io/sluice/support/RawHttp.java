package io.sluice.support;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * HTTP/1.1 over a plain socket, for requests no well-behaved client would send: broken framing, bodies shorter than
 * their Content-Length, garbage request lines. Reads one response (Content-Length, chunked or until close).
 */
public final class RawHttp {
    /** A response; {@code status} is -1 when the server closed the connection without answering. */
    public record Response(int status, Map<String, String> headers, String body) {
        public String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }
    }

    private RawHttp() {}

    /** The request head for {@code path} on the server of {@code url}, ending with the blank line. */
    public static byte[] head(String method, String url, String... headers) {
        URI uri = URI.create(url);
        StringBuilder head = new StringBuilder(
                method + " " + uri.getRawPath() + " HTTP/1.1\r\nHost: " + uri.getHost() + ":" + uri.getPort() + "\r\n");
        for (int i = 0; i + 1 < headers.length; i += 2)
            head.append(headers[i]).append(": ").append(headers[i + 1]).append("\r\n");
        return head.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1);
    }

    public static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) out.writeBytes(part);
        return out.toByteArray();
    }

    /** Sends {@code request} to the server of {@code url}, optionally half-closes, and reads the response. */
    public static Response exchange(String url, byte[] request, boolean halfClose, int timeoutMillis) {
        URI uri = URI.create(url);
        try (Socket socket = new Socket(uri.getHost(), uri.getPort())) {
            socket.setSoTimeout(timeoutMillis);
            socket.getOutputStream().write(request);
            socket.getOutputStream().flush();
            if (halfClose) socket.shutdownOutput();
            return read(socket.getInputStream());
        } catch (SocketTimeoutException e) {
            throw new AssertionError("no response within " + timeoutMillis + " ms", e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Reads one response; status -1 if the connection ends (or is reset) before a status line. */
    public static Response read(InputStream in) throws IOException {
        String statusLine;
        try {
            statusLine = line(in);
        } catch (SocketException reset) {
            return new Response(-1, Map.of(), "");
        }
        if (statusLine == null || statusLine.isEmpty()) return new Response(-1, Map.of(), "");
        int status = Integer.parseInt(statusLine.split(" ")[1]);
        Map<String, String> headers = new LinkedHashMap<>();
        for (String line = line(in); line != null && !line.isEmpty(); line = line(in)) {
            int colon = line.indexOf(':');
            headers.put(
                    line.substring(0, colon).trim().toLowerCase(Locale.ROOT),
                    line.substring(colon + 1).trim());
        }
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        if (headers.containsKey("content-length")) {
            body.writeBytes(in.readNBytes(Integer.parseInt(headers.get("content-length"))));
        } else if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
            for (int size = Integer.parseInt(line(in).split(";")[0].trim(), 16);
                    size > 0;
                    size = Integer.parseInt(line(in).split(";")[0].trim(), 16)) {
                body.writeBytes(in.readNBytes(size));
                line(in);
            }
        } else {
            body.writeBytes(in.readAllBytes());
        }
        return new Response(status, headers, body.toString(StandardCharsets.UTF_8));
    }

    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) >= 0) {
            if (b == '\n') return line.toString(StandardCharsets.ISO_8859_1).stripTrailing();
            line.write(b);
        }
        return line.size() == 0 ? null : line.toString(StandardCharsets.ISO_8859_1);
    }
}
