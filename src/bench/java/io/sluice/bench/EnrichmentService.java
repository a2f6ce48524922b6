package io.sluice.bench;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The enrichment service of {@code bench functions}: {@code GET /users/<id>} answers the user's tier; the run makes it
 * slow (2 s per call), failing (500), down (connection refused) and healthy again on the same port.
 */
final class EnrichmentService implements AutoCloseable {
    enum Mode {
        HEALTHY("healthy"),
        SLOW("slow (2 s per call)"),
        FAILING("failing (500)"),
        DOWN("down (connection refused)"),
        RECOVERED("healthy again");

        final String label;

        Mode(String label) {
            this.label = label;
        }
    }

    private final int port;
    private volatile HttpServer server;
    private volatile Mode mode = Mode.HEALTHY;
    private final AtomicLong calls = new AtomicLong();

    EnrichmentService() throws IOException {
        server = listen(0);
        port = server.getAddress().getPort();
    }

    private HttpServer listen(int on) throws IOException {
        HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", on), 1000);
        s.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        s.createContext("/users/", this::handle);
        s.start();
        return s;
    }

    int port() {
        return port;
    }

    long calls() {
        return calls.get();
    }

    synchronized void mode(Mode next) throws IOException {
        if (next == Mode.DOWN && server != null) {
            server.stop(0);
            server = null;
        } else if (next != Mode.DOWN && server == null) {
            server = listen(port);
        }
        mode = next;
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            calls.incrementAndGet();
            Mode now = mode;
            if (now == Mode.SLOW) {
                try {
                    Thread.sleep(2000);
                } catch (InterruptedException e) {
                    return;
                }
            }
            String id = exchange.getRequestURI().getPath().substring("/users/".length());
            boolean failing = now == Mode.FAILING;
            byte[] body = (failing ? "{\"error\":\"internal\"}" : "{\"tier\":\"tier-" + id.hashCode() % 4 + "\"}")
                    .getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(failing ? 500 : 200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }

    @Override
    public synchronized void close() {
        if (server != null) server.stop(0);
    }
}
