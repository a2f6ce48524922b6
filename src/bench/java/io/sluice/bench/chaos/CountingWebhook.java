package io.sluice.bench.chaos;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;

/**
 * A webhook receiver that dedupes nothing: answers 200 to every event-mode request and counts each
 * Idempotency-Key (the event's messageId), so an event delivered twice is seen twice.
 */
public final class CountingWebhook implements AutoCloseable {
    private final HttpServer server;
    private final Map<String, Integer> counts = new ConcurrentHashMap<>();

    public CountingWebhook() {
        try {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 100);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/", exchange -> {
            exchange.getRequestBody().readAllBytes();
            String key = exchange.getRequestHeaders().getFirst("Idempotency-Key");
            if (key != null) counts.merge(key, 1, Integer::sum);
            exchange.sendResponseHeaders(200, -1);
            exchange.close();
        });
        server.start();
    }

    public String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/hook";
    }

    public Map<String, Integer> counts() {
        return Map.copyOf(counts);
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
