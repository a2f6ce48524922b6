package io.sluice.support;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A webhook receiver that dedupes nothing: it counts every request per {@code Idempotency-Key} (the event's
 * messageId in event mode) and answers as the test's script says, so a second delivery of an event is visible as a
 * count of 2 rather than absorbed. Accepted (2xx) deliveries are counted separately from attempts.
 */
public final class CountingReceiver implements AutoCloseable {
    /** What to answer: a status, after an optional delay. */
    public record Reply(int status, Duration delay) {
        public static Reply ok() {
            return new Reply(200, Duration.ZERO);
        }
    }

    /** Decides the reply from the key and how many requests with this key arrived so far (1 = the first). */
    @FunctionalInterface
    public interface Script {
        Reply answer(String key, int attempt);
    }

    private final HttpServer server;
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    private final Map<String, AtomicInteger> attempts = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> accepted = new ConcurrentHashMap<>();
    private final AtomicInteger delaying = new AtomicInteger();
    private volatile Script script = (key, attempt) -> Reply.ok();

    public CountingReceiver() {
        try {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 200);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        server.setExecutor(executor);
        server.createContext("/hook", this::handle);
        server.start();
    }

    public String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/hook";
    }

    public void answer(Script script) {
        this.script = script;
    }

    /** Keys accepted (2xx) at least once, with how many times each was accepted. */
    public Map<String, Integer> accepted() {
        Map<String, Integer> copy = new HashMap<>();
        accepted.forEach((k, v) -> copy.put(k, v.get()));
        return copy;
    }

    /** Keys accepted more than once: the deliveries a non-deduping receiver sees twice. */
    public long acceptedTwice() {
        return accepted.values().stream().filter(n -> n.get() > 1).count();
    }

    /** Requests being held by a delay right now (a slow receiver at work). */
    public int delaying() {
        return delaying.get();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            try (InputStream in = exchange.getRequestBody()) {
                in.readAllBytes();
            }
            String key = String.valueOf(exchange.getRequestHeaders().getFirst("Idempotency-Key"));
            int attempt =
                    attempts.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
            Reply reply = script.answer(key, attempt);
            if (reply.delay().isPositive()) {
                delaying.incrementAndGet();
                try {
                    Thread.sleep(reply.delay()); // wall clock: the script asked for a slow receiver
                } catch (InterruptedException e) {
                    return; // closing
                } finally {
                    delaying.decrementAndGet();
                }
            }
            if (reply.status() / 100 == 2)
                accepted.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
            exchange.sendResponseHeaders(reply.status(), -1);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
