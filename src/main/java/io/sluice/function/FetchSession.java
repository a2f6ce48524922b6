package io.sluice.function;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.delivery.DeliveryException;
import io.sluice.delivery.FailureClass;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * One batch's side of {@code fetch}: starts each call the script made on a virtual thread ({@link FetchClient#call}),
 * and hands the answers back to the context's thread in the order they arrive ({@link #next}), which alone touches
 * the script.
 * Remembers the first sign that a service is failing ({@link #dependencyFailure}); {@link #close} interrupts the
 * calls still in flight.
 */
final class FetchSession {
    /** What fetch rejects with in a sync that may not fetch. */
    static final String DISABLED =
            "fetch is not enabled for this sync: list the hosts it may call in the sync's fetch.allowHosts";

    /** A call's outcome, for the context's thread. */
    record Completion(int id, FetchClient.Outcome outcome) {}

    private final FetchCalls client;
    private final long deadlineNanos;
    private final Duration batchTimeout;
    private final BlockingQueue<Completion> completions = new LinkedBlockingQueue<>();
    private final Set<Thread> calls = ConcurrentHashMap.newKeySet();
    private int outstanding;
    private DeliveryException dependencyFailure;
    private Instant resumeAt;

    /** @param client where the calls go (the sync's client, or a trial's mock responses); null: fetch is disabled */
    FetchSession(FetchCalls client, Duration batchTimeout) {
        this.client = client;
        this.batchTimeout = batchTimeout;
        this.deadlineNanos = System.nanoTime() + batchTimeout.toNanos();
    }

    /** Starts call {@code id} as the script asked ({@code call}: url, method, headers, body). */
    void start(int id, JsonNode call) {
        outstanding++;
        FetchClient.Request request;
        try {
            request = request(call);
        } catch (RuntimeException e) {
            completions.add(new Completion(id, new FetchClient.Refused("fetch was called with an invalid request")));
            return;
        }
        if (client == null) {
            completions.add(new Completion(id, new FetchClient.Refused(DISABLED)));
            return;
        }
        Thread thread = Thread.ofVirtual().name("sluice-fetch-call").unstarted(() -> {
            try {
                completions.add(new Completion(id, client.call(request, deadlineNanos)));
            } finally {
                calls.remove(Thread.currentThread());
            }
        });
        calls.add(thread);
        thread.start();
    }

    private static FetchClient.Request request(JsonNode json) {
        Map<String, String> headers = new LinkedHashMap<>();
        JsonNode given = json.get("headers");
        if (given instanceof ObjectNode object)
            object.properties()
                    .forEach(e -> headers.put(e.getKey(), e.getValue().asText()));
        JsonNode body = json.get("body");
        return new FetchClient.Request(
                json.get("url").asText(),
                json.get("method").asText(),
                headers,
                body == null || body.isNull() ? null : body.asText());
    }

    /** Whether the sync may fetch (else every call is refused). */
    boolean enabled() {
        return client != null;
    }

    /** Calls started and not yet handed back. */
    int outstanding() {
        return outstanding;
    }

    /** The next call's outcome, or null when the batch's {@code fetch.batchTimeout} passed first. */
    Completion next() throws InterruptedException {
        Completion completion = completions.poll(deadlineNanos - System.nanoTime(), TimeUnit.NANOSECONDS);
        if (completion != null) outstanding--;
        return completion;
    }

    /**
     * A call's outcome says the service is failing: the first such failure is kept, and the latest end of a
     * Retry-After pause it reported ({@code resumeAt}, or null).
     */
    void serviceFailed(DeliveryException failure, Instant resumeAt) {
        if (dependencyFailure == null) dependencyFailure = failure;
        if (resumeAt != null && (this.resumeAt == null || resumeAt.isAfter(this.resumeAt))) this.resumeAt = resumeAt;
    }

    /** The latest end of a called host's Retry-After pause seen in this batch, or null. */
    Instant resumeAt() {
        return resumeAt;
    }

    /** The first failure of a called service in this batch, or null. */
    DeliveryException dependencyFailure() {
        return dependencyFailure;
    }

    /** The calls did not finish within the batch's time: the service is too slow. */
    DeliveryException timedOut() {
        return DeliveryException.of(
                FailureClass.UNRESPONSIVE,
                outstanding + " fetch call(s) of the function did not finish within fetch.batchTimeout ("
                        + batchTimeout.toMillis() + " ms)",
                null);
    }

    /** Interrupts the calls still in flight (their answers go to nobody). */
    void close() {
        for (Thread call : calls) call.interrupt();
    }
}
