package io.sluice.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A webhook receiver (event mode) that dedupes nothing and keeps the arrival order: every accepted event's
 * messageId, user and per-user sequence number, so tests count redeliveries and check per-user order. It can be
 * held or slowed to build a backlog.
 */
final class OrderRecordingReceiver implements AutoCloseable {
    record Delivery(String messageId, String userId, int sequence) {}

    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpServer server;
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    private final List<Delivery> deliveries = new ArrayList<>();
    private volatile Duration delay = Duration.ZERO;
    private volatile CountDownLatch gate = new CountDownLatch(0);

    OrderRecordingReceiver() {
        try {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 200);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        server.setExecutor(executor);
        server.createContext("/hook", this::handle);
        server.start();
    }

    String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/hook";
    }

    void slowDown(Duration perRequest) {
        this.delay = perRequest;
    }

    /** Holds every request unanswered until {@link #release()}: deliveries stop and a backlog builds. */
    void hold() {
        gate = new CountDownLatch(1);
    }

    void release() {
        gate.countDown();
    }

    synchronized List<Delivery> deliveries() {
        return List.copyOf(deliveries);
    }

    /** How many times each messageId was accepted. */
    synchronized Map<String, Integer> acceptedCounts() {
        Map<String, Integer> counts = new HashMap<>();
        for (Delivery d : deliveries) counts.merge(d.messageId(), 1, Integer::sum);
        return counts;
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            JsonNode event;
            try (InputStream in = exchange.getRequestBody()) {
                event = JSON.readTree(in);
            }
            try {
                gate.await();
            } catch (InterruptedException e) {
                return;
            }
            Duration wait = delay;
            if (wait.isPositive()) {
                try {
                    Thread.sleep(wait); // the slow destination the test asked for
                } catch (InterruptedException e) {
                    return;
                }
            }
            synchronized (this) {
                deliveries.add(new Delivery(
                        event.path("messageId").asText(),
                        event.path("userId").asText(),
                        event.path("properties").path("sequence").asInt(-1)));
            }
            exchange.sendResponseHeaders(200, -1);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
