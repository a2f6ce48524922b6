package io.sluice.support;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real HTTP enrichment service for fetch tests: {@code GET /users/<id>} answers {@code {"id":..,"tier":"tier-<id>"}}
 * (404 for ids marked missing); the test makes it slow, failing (500s alternating with connections dropped
 * mid-body), or down (stopped: connections refused) and healthy again on the same port. {@code /redirect?to=URL}
 * answers 302, {@code /big} a body of {@link #BIG} bytes, {@code /echo-header} the Authorization header it got.
 */
public final class EnrichmentServer implements AutoCloseable {
    public static final int BIG = 64 * 1024;

    /** How the service behaves now. */
    public enum Mode {
        HEALTHY,
        SLOW,
        FAILING,
        THROTTLING
    }

    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    private final AtomicInteger calls = new AtomicInteger();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicInteger maxInFlight = new AtomicInteger();
    private final Map<String, AtomicInteger> callsByPath = new ConcurrentHashMap<>();
    private final Set<String> missing = ConcurrentHashMap.newKeySet();
    private volatile Mode mode = Mode.HEALTHY;
    private volatile Duration slowness = Duration.ofSeconds(2);
    private volatile int retryAfterSeconds = 1;
    private final java.util.List<java.time.Instant> throttled = new java.util.concurrent.CopyOnWriteArrayList<>();
    private volatile String lastAuthorization;
    private final int port;
    private HttpServer server;

    public EnrichmentServer() {
        this.server = bind(0);
        this.port = server.getAddress().getPort();
    }

    private HttpServer bind(int wanted) {
        try {
            HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", wanted), 200);
            s.setExecutor(executor);
            s.createContext("/", this::handle);
            s.start();
            return s;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public int port() {
        return port;
    }

    public String url(String path) {
        return "http://127.0.0.1:" + port + path;
    }

    public void mode(Mode mode) {
        this.mode = mode;
    }

    public void slowness(Duration perCall) {
        this.slowness = perCall;
    }

    private final AtomicInteger throttleLeft = new AtomicInteger();

    /** The next {@code calls} calls are answered 429 with Retry-After {@code seconds}, whatever the mode. */
    public void throttleFirst(int calls, int seconds) {
        this.retryAfterSeconds = seconds;
        throttleLeft.set(calls);
    }

    /** The Retry-After (seconds) of a throttling answer. */
    public void retryAfter(int seconds) {
        this.retryAfterSeconds = seconds;
    }

    /** When each 429 was answered (wall clock), in order. */
    public java.util.List<java.time.Instant> throttledAt() {
        return java.util.List.copyOf(throttled);
    }

    public void missing(String id) {
        missing.add(id);
    }

    /** Down: the port refuses connections until {@link #up()}. */
    public synchronized void down() {
        server.stop(0);
    }

    public synchronized void up() {
        server = bind(port);
    }

    public int calls() {
        return calls.get();
    }

    public int calls(String path) {
        AtomicInteger n = callsByPath.get(path);
        return n == null ? 0 : n.get();
    }

    public int maxInFlight() {
        return maxInFlight.get();
    }

    public String lastAuthorization() {
        return lastAuthorization;
    }

    private void handle(HttpExchange exchange) throws IOException {
        int now = inFlight.incrementAndGet();
        maxInFlight.accumulateAndGet(now, Math::max);
        try (exchange) {
            int n = calls.incrementAndGet();
            String path = exchange.getRequestURI().getPath();
            callsByPath.computeIfAbsent(path, k -> new AtomicInteger()).incrementAndGet();
            lastAuthorization = exchange.getRequestHeaders().getFirst("Authorization");
            exchange.getRequestBody().readAllBytes();
            Mode acting = throttleLeft.getAndDecrement() > 0 ? Mode.THROTTLING : mode;
            switch (acting) {
                case SLOW -> {
                    try {
                        Thread.sleep(slowness); // wall clock: the service under test is slow
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                case FAILING -> {
                    if (n % 2 == 0) {
                        reply(exchange, 500, "{\"error\":\"internal\"}");
                    } else { // the connection drops in the middle of the body
                        exchange.sendResponseHeaders(200, 100);
                        exchange.getResponseBody().write("{\"id\"".getBytes(StandardCharsets.UTF_8));
                        exchange.getResponseBody().flush();
                    }
                    return;
                }
                case THROTTLING -> {
                    exchange.getResponseHeaders().add("Retry-After", Integer.toString(retryAfterSeconds));
                    throttled.add(java.time.Instant.now());
                    reply(exchange, 429, "{}");
                    return;
                }
                case HEALTHY -> {}
            }
            if (path.startsWith("/users/")) {
                String id = path.substring("/users/".length());
                if (missing.contains(id)) reply(exchange, 404, "{\"error\":\"no such user\"}");
                else reply(exchange, 200, "{\"id\":\"" + id + "\",\"tier\":\"tier-" + id + "\"}");
            } else if (path.equals("/redirect")) {
                String to = exchange.getRequestURI().getQuery().substring("to=".length());
                exchange.getResponseHeaders().add("Location", to);
                exchange.sendResponseHeaders(302, -1);
            } else if (path.equals("/big")) {
                reply(exchange, 200, "x".repeat(BIG));
            } else if (path.equals("/echo-header")) {
                reply(exchange, 200, "{\"authorization\":\"" + lastAuthorization + "\"}");
            } else {
                reply(exchange, 404, "{}");
            }
        } finally {
            inFlight.decrementAndGet();
        }
    }

    private static void reply(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public synchronized void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
