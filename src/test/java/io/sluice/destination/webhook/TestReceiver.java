package io.sluice.destination.webhook;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * A real webhook receiver on 127.0.0.1 for tests: records every request as it arrives, answers as the test's script
 * says (status, headers, body, and an optional delay before answering), and counts concurrent requests.
 */
final class TestReceiver implements AutoCloseable {
    record Request(Headers headers, byte[] body, long arrivedNanos) {
        String header(String name) {
            return headers.getFirst(name);
        }

        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    /** {@code stall}: send the headers and part of the body, then stop for this long (a trickling receiver). */
    record Reply(int status, String body, Map<String, String> headers, Duration delay, Duration stall) {
        static Reply status(int status) {
            return new Reply(status, "", Map.of(), Duration.ZERO, Duration.ZERO);
        }

        static Reply ok() {
            return status(200);
        }

        Reply body(String text) {
            return new Reply(status, text, headers, delay, stall);
        }

        Reply header(String name, String value) {
            Map<String, String> more = new LinkedHashMap<>(headers);
            more.put(name, value);
            return new Reply(status, body, Map.copyOf(more), delay, stall);
        }

        Reply after(Duration wait) {
            return new Reply(status, body, headers, wait, stall);
        }

        Reply stallingBody(Duration wait) {
            return new Reply(status, body.isEmpty() ? "partial" : body, headers, delay, wait);
        }
    }

    private final HttpServer server;
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    private final List<Request> requests = Collections.synchronizedList(new ArrayList<>());
    private final AtomicInteger concurrent = new AtomicInteger();
    private final AtomicInteger maxConcurrent = new AtomicInteger();
    private volatile Function<Request, Reply> script = request -> Reply.ok();

    TestReceiver() {
        this(0);
    }

    /** On a given port (0: any free one), e.g. where a refused or black-holed endpoint was, once it "recovers". */
    TestReceiver(int port) {
        try {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 200);
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

    void answer(Function<Request, Reply> script) {
        this.script = script;
    }

    List<Request> requests() {
        synchronized (requests) {
            return List.copyOf(requests);
        }
    }

    int maxConcurrent() {
        return maxConcurrent.get();
    }

    private void handle(HttpExchange exchange) throws IOException {
        maxConcurrent.accumulateAndGet(concurrent.incrementAndGet(), Math::max);
        try {
            byte[] body;
            try (InputStream in = exchange.getRequestBody()) {
                body = in.readAllBytes();
            }
            Request request = new Request(exchange.getRequestHeaders(), body, System.nanoTime());
            requests.add(request);
            Reply reply = script.apply(request);
            if (!pause(reply.delay())) return;
            reply.headers().forEach(exchange.getResponseHeaders()::set);
            byte[] out = reply.body().getBytes(StandardCharsets.UTF_8);
            if (reply.stall().isPositive()) {
                exchange.sendResponseHeaders(reply.status(), out.length + 1000);
                OutputStream os = exchange.getResponseBody();
                os.write(out);
                os.flush();
                pause(reply.stall());
                return;
            }
            exchange.sendResponseHeaders(reply.status(), out.length == 0 ? -1 : out.length);
            if (out.length > 0) {
                try (OutputStream os = exchange.getResponseBody()) {
                    os.write(out);
                }
            }
        } finally {
            exchange.close();
            concurrent.decrementAndGet();
        }
    }

    private static boolean pause(Duration wait) {
        if (!wait.isPositive()) return true;
        try {
            Thread.sleep(wait); // wall clock: the test asked for a slow receiver
            return true;
        } catch (InterruptedException e) {
            return false; // closing
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
