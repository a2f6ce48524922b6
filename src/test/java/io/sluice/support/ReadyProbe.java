package io.sluice.support;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** Polls an admin server's /ready like a load balancer would, recording every answer with its time. */
public final class ReadyProbe implements AutoCloseable {
    public record Answer(long nanos, int status, String body) {}

    private final HttpClient client =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final List<Answer> answers = Collections.synchronizedList(new ArrayList<>());
    private final Thread thread;
    private volatile boolean stopping;

    public ReadyProbe(String adminUrl, Duration every) {
        thread = Thread.ofVirtual().name("ready-probe").start(() -> {
            while (!stopping) {
                int status;
                String body = "";
                try {
                    HttpResponse<String> r = client.send(
                            HttpRequest.newBuilder(URI.create(adminUrl + "/ready"))
                                    .timeout(Duration.ofSeconds(5))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
                    status = r.statusCode();
                    body = r.body();
                } catch (Exception e) {
                    status = -1;
                }
                answers.add(new Answer(System.nanoTime(), status, body));
                try {
                    Thread.sleep(every); // wall clock: the probe samples /ready at a fixed real-time rate
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
    }

    public List<Answer> answers() {
        synchronized (answers) {
            return List.copyOf(answers);
        }
    }

    public List<Answer> between(long fromNanos, long toNanos) {
        return answers().stream()
                .filter(a -> a.nanos() >= fromNanos && a.nanos() <= toNanos)
                .toList();
    }

    /** The first answer with {@code status} at or after {@code fromNanos}, or null. */
    public Answer first(int status, long fromNanos) {
        return answers().stream()
                .filter(a -> a.nanos() >= fromNanos && a.status() == status)
                .findFirst()
                .orElse(null);
    }

    @Override
    public void close() throws InterruptedException {
        stopping = true;
        thread.join(Duration.ofSeconds(10));
    }
}
