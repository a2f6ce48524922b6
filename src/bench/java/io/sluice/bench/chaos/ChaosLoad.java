package io.sluice.bench.chaos;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.IntFunction;

/**
 * Continuous load like the official SDKs produce: each sender posts batches of track events with unique
 * messageIds and, when a batch is not answered 200 (503, 429, a reset connection, a timeout), sends the very same
 * batch again after a short pause, as analytics-java does. Every attempt is recorded with its start and end time,
 * so a test (or {@code sluice bench chaos}) can check what was answered while a fault lasted and which ids were acknowledged.
 */
public final class ChaosLoad implements AutoCloseable {
    /** One HTTP attempt: status -1 for an I/O failure (connection refused or reset, timeout). */
    public record Attempt(
            long startNanos, long endNanos, int status, String retryAfter, List<String> ids, int attempt) {}

    private final IntFunction<String> collectorUrl;
    private final String authorization;
    private final int batchSize;
    private final Duration pause;
    private final String prefix;
    private final HttpClient client =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final List<Attempt> attempts = Collections.synchronizedList(new ArrayList<>());
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean stopping;

    /**
     * @param collectorUrl base URL of the collector for a given attempt number (lets a test spread load over several)
     * @param pause        between batches of one sender
     */
    public ChaosLoad(
            IntFunction<String> collectorUrl,
            String writeKey,
            String prefix,
            int senders,
            int batchSize,
            Duration pause) {
        this.collectorUrl = collectorUrl;
        this.authorization =
                "Basic " + Base64.getEncoder().encodeToString((writeKey + ":").getBytes(StandardCharsets.UTF_8));
        this.batchSize = batchSize;
        this.pause = pause;
        this.prefix = prefix;
        for (int s = 0; s < senders; s++) {
            int sender = s;
            threads.add(Thread.ofVirtual().name("chaos-load-" + s).unstarted(() -> run(sender)));
        }
    }

    public ChaosLoad start() {
        threads.forEach(Thread::start);
        return this;
    }

    private void run(int sender) {
        int counter = 0;
        for (int batch = 0; !stopping; batch++) {
            List<String> ids = new ArrayList<>(batchSize);
            StringBuilder body = new StringBuilder("{\"batch\":[");
            for (int i = 0; i < batchSize; i++) {
                String id = prefix + "-" + sender + "-" + batch + "-" + i;
                ids.add(id);
                body.append(i == 0 ? "" : ",")
                        .append("{\"type\":\"track\",\"event\":\"Chaos\",\"userId\":\"user-")
                        .append((sender * 31 + i) % 50)
                        .append("\",\"messageId\":\"")
                        .append(id)
                        .append("\"}");
            }
            String payload = body.append("]}").toString();
            for (int attempt = 1; ; attempt++) {
                int status = send(payload, ids, attempt, counter++);
                if (status == 200) break;
                if (stopping) return; // its ids stay unacknowledged: a test may check none of them is half-stored
                sleep(Duration.ofMillis(200));
            }
            sleep(pause);
        }
    }

    private int send(String payload, List<String> ids, int attempt, int counter) {
        long start = System.nanoTime();
        int status;
        String retryAfter = null;
        try {
            HttpRequest request = HttpRequest.newBuilder(URI.create(collectorUrl.apply(counter) + "/v1/batch"))
                    .timeout(Duration.ofSeconds(15))
                    .header("Authorization", authorization)
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(payload))
                    .build();
            HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
            status = response.statusCode();
            retryAfter = response.headers().firstValue("Retry-After").orElse(null);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            status = -1;
        } catch (Exception e) {
            status = -1;
        }
        attempts.add(new Attempt(start, System.nanoTime(), status, retryAfter, List.copyOf(ids), attempt));
        return status;
    }

    /** Stops sending and waits for the senders' last attempts. */
    public void stop() throws InterruptedException {
        stopping = true;
        for (Thread t : threads) t.join(Duration.ofSeconds(30));
    }

    public List<Attempt> attempts() {
        synchronized (attempts) {
            return List.copyOf(attempts);
        }
    }

    /** Ids of every batch answered 200. */
    public Set<String> acknowledged() {
        Set<String> ids = new HashSet<>();
        for (Attempt a : attempts()) if (a.status() == 200) ids.addAll(a.ids());
        return ids;
    }

    /** Ids sent at least once but never answered 200. */
    public Set<String> neverAcknowledged() {
        Set<String> ids = new HashSet<>();
        for (Attempt a : attempts()) ids.addAll(a.ids());
        ids.removeAll(acknowledged());
        return ids;
    }

    /** Attempts that started at or after {@code fromNanos} and ended before {@code toNanos}. */
    public List<Attempt> within(long fromNanos, long toNanos) {
        return attempts().stream()
                .filter(a -> a.startNanos() >= fromNanos && a.endNanos() <= toNanos)
                .toList();
    }

    /** Attempts answered 200 only after the same batch was refused before (SDK retries). */
    public long retriedThenAcknowledged() {
        return attempts().stream()
                .filter(a -> a.status() == 200 && a.attempt() > 1)
                .count();
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() throws InterruptedException {
        stop();
    }
}
