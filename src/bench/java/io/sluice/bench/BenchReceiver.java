package io.sluice.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A webhook receiver on 127.0.0.1 for {@code bench destinations}: answers as its current {@link Mode} says, counts
 * the distinct events it accepted (by messageId) and the redeliveries of accepted ones, and records the latency of each first acceptance (arrival minus
 * the collector's {@code receivedAt}) into the histogram in place. A body is one event (webhook {@code mode: event}) or
 * a JSON array of events ({@code mode: batch}); either way events are counted once each, by messageId, and the
 * request's answer (by its Idempotency-Key) applies to all its events. "refused" stops listening; any other mode
 * listens again on the same port.
 */
final class BenchReceiver implements AutoCloseable {
    enum Mode {
        OK("answers 200"),
        REFUSED("connection refused"),
        BLACK_HOLE("black hole (accepts, never answers)"),
        SLOW("slow (5 s per request)"),
        ALL_500("100 % 500"),
        SOME_500("30 % 500"),
        THROTTLE("429 with Retry-After: 2"),
        FLAKY("flaky (500, then 429 Retry-After: 1, then 200)");

        final String label;

        Mode(String label) {
            this.label = label;
        }
    }

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private final int port;
    private volatile HttpServer server;
    private volatile Mode mode = Mode.OK;
    private final Set<String> accepted = ConcurrentHashMap.newKeySet();
    private final Map<String, AtomicInteger> attempts = new ConcurrentHashMap<>();
    private final AtomicLong arrivals = new AtomicLong();
    private final AtomicLong orderViolations = new AtomicLong();
    private final AtomicLong redeliveries = new AtomicLong();
    private final Map<String, Long> lastSeq = new ConcurrentHashMap<>();
    private final AtomicReference<LatencyHistogram> latency = new AtomicReference<>(new LatencyHistogram());

    BenchReceiver() throws IOException {
        server = listen(0);
        port = server.getAddress().getPort();
    }

    private HttpServer listen(int on) throws IOException {
        HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", on), 1000);
        s.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        s.createContext("/hook", this::handle);
        s.start();
        return s;
    }

    String url() {
        return "http://127.0.0.1:" + port + "/hook";
    }

    synchronized void mode(Mode next) throws Exception {
        if (next == Mode.REFUSED && server != null) {
            server.stop(0);
            server = null;
        } else if (next != Mode.REFUSED && server == null) {
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (server == null) {
                try {
                    server = listen(port);
                } catch (IOException e) {
                    if (System.nanoTime() > deadline) throw e;
                    Thread.sleep(100);
                }
            }
        }
        attempts.clear();
        mode = next;
    }

    /** Starts a new latency histogram and returns the one that was filling. */
    LatencyHistogram swapLatency() {
        return latency.getAndSet(new LatencyHistogram());
    }

    long acceptedEvents() {
        return accepted.size();
    }

    long orderViolations() {
        return orderViolations.get();
    }

    /** Events accepted again after an earlier acceptance (duplicates a receiver that does not dedupe would keep). */
    long redeliveries() {
        return redeliveries.get();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            byte[] body;
            try (InputStream in = exchange.getRequestBody()) {
                body = in.readAllBytes();
            }
            String key = exchange.getRequestHeaders().getFirst("Idempotency-Key");
            int status = status(key);
            if (status < 0) return; // black hole or slow: already waited
            if (status == 429) exchange.getResponseHeaders().set("Retry-After", mode == Mode.THROTTLE ? "2" : "1");
            if (status == 200) accept(body);
            exchange.sendResponseHeaders(status, -1);
        }
    }

    /** The status to answer, or -1 after holding the request (black hole: until the client gives up). */
    private int status(String key) {
        Mode now = mode;
        try {
            switch (now) {
                case BLACK_HOLE -> {
                    Thread.sleep(Duration.ofSeconds(30));
                    return -1;
                }
                case SLOW -> Thread.sleep(Duration.ofSeconds(5));
                default -> {}
            }
        } catch (InterruptedException e) {
            return -1;
        }
        return switch (now) {
            case ALL_500 -> 500;
            case SOME_500 -> arrivals.incrementAndGet() % 10 < 3 ? 500 : 200;
            case THROTTLE -> 429;
            case FLAKY ->
                switch (attempts.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet()) {
                    case 1 -> 500;
                    case 2 -> 429;
                    default -> 200;
                };
            default -> 200;
        };
    }

    private void accept(byte[] body) throws IOException {
        JsonNode root = MAPPER.readTree(body);
        if (!root.isArray()) {
            acceptEvent(root);
            return;
        }
        for (JsonNode event : root) acceptEvent(event);
    }

    /** Counts an event the first time its messageId arrives; later arrivals are counted as redeliveries. */
    private void acceptEvent(JsonNode event) {
        if (!accepted.add(event.path("messageId").asText())) {
            redeliveries.incrementAndGet();
            return;
        }
        Instant received = Instant.parse(event.path("receivedAt").asText());
        latency.get().record(Duration.between(received, Instant.now()).toNanos() / 1000);
        String user = event.path("userId").asText(event.path("anonymousId").asText(""));
        long seq = event.path("properties").path("seq").asLong(-1);
        Long before = lastSeq.put(user, seq);
        if (before != null && seq >= 0 && before >= seq) orderViolations.incrementAndGet();
    }

    @Override
    public synchronized void close() {
        if (server != null) server.stop(0);
    }
}
