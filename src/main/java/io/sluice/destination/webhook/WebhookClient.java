package io.sluice.destination.webhook;

import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.delivery.DeliveryException;
import io.sluice.delivery.Failures;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodySubscriber;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Sends one request to a webhook destination, within its limits: a concurrency slot (semaphore), a rate-limit token
 * and the circuit breaker, each waited for at most {@link WebhookSettings#maxWait()}. Never throws for a failed
 * exchange: the {@link Outcome} says what happened and whether a retry can help ({@link Failures}).
 */
final class WebhookClient implements AutoCloseable {
    /** Longest response-body snippet kept for an error message. */
    static final int SNIPPET_CHARS = 500;
    private static final int SNIPPET_BYTES = 4 * SNIPPET_CHARS;

    private final WebhookSettings settings;
    private final Clock clock;
    private final HttpClient http;
    private final Semaphore slots;
    private final RateLimiter rateLimiter;
    private final CircuitBreaker breaker;
    private final WebhookSignature signature;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final WebhookMetrics metrics;
    /** Ends response bodies that outlast their request's timeout (one daemon thread; its tasks only cancel). */
    private final ScheduledExecutorService timer;

    /** What became of one request: {@code error == null} means a 2xx. */
    record Outcome(DeliveryException error, Integer statusCode, Duration retryAfter) {
        static final Outcome DELIVERED = new Outcome(null, null, null);

        boolean delivered() {
            return error == null;
        }

        static Outcome retriable(String message, Duration retryAfter) {
            return new Outcome(DeliveryException.retriable(message, null), null, retryAfter);
        }
    }

    WebhookClient(WebhookSettings settings, MeterRegistry registry, Clock clock) {
        this.settings = settings;
        this.clock = clock;
        this.http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(settings.timeout())
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
        this.slots = new Semaphore(settings.maxConcurrency(), true);
        this.rateLimiter = settings.rateLimit() == null ? null : new RateLimiter(settings.rateLimit().perSecond(), clock);
        this.breaker = new CircuitBreaker("webhook destination " + settings.id(), settings.breakerFailures(), settings.breakerCoolDown(), clock);
        this.signature = settings.signed() ? new WebhookSignature(settings.secret()) : null;
        this.metrics = new WebhookMetrics(registry, settings.id(), inFlight, breaker);
        ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1,
                Thread.ofPlatform().name("sluice-webhook-" + settings.id() + "-timer").daemon().factory());
        timer.setRemoveOnCancelPolicy(true);
        this.timer = timer;
    }

    /**
     * POSTs {@code body} (JSON) with this idempotency key; {@code events} is how many events it carries (for an
     * events/s rate limit). Throws only when interrupted.
     */
    Outcome send(byte[] body, String idempotencyKey, int events) throws InterruptedException {
        if (!slots.tryAcquire(settings.maxWait().toNanos(), TimeUnit.NANOSECONDS)) {
            metrics.rejected("busy");
            return Outcome.retriable("not sent: all " + settings.maxConcurrency() + " request slots stayed busy for " + settings.maxWait(), null);
        }
        try {
            Outcome open = circuitOpen();
            if (open != null) return open; // fail fast before spending rate-limit tokens
            if (rateLimiter != null) {
                Duration wait = rateLimiter.reserve(settings.rateLimit().events() ? events : 1, settings.maxWait());
                if (wait == null) {
                    metrics.rejected("rate_limited");
                    return Outcome.retriable("not sent: the rate limit of " + settings.rateLimit() + " would have delayed it more than "
                            + settings.maxWait(), rateLimiter.untilFree());
                }
                if (wait.isPositive()) TimeUnit.NANOSECONDS.sleep(wait.toNanos());
            }
            if (!breaker.tryPass()) {
                Outcome stillOpen = circuitOpen();
                return stillOpen != null ? stillOpen : rejectedByBreaker(Duration.ZERO);
            }
            return exchange(body, idempotencyKey);
        } finally {
            slots.release();
        }
    }

    private Outcome circuitOpen() {
        Duration untilProbe = breaker.untilProbe();
        return untilProbe.isPositive() ? rejectedByBreaker(untilProbe) : null;
    }

    private Outcome rejectedByBreaker(Duration untilProbe) {
        metrics.rejected("circuit_open");
        return Outcome.retriable("not sent: the circuit is open after " + settings.breakerFailures()
                + " consecutive failures (next probe in " + untilProbe.toMillis() + " ms)", untilProbe);
    }

    private Outcome exchange(byte[] body, String idempotencyKey) throws InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(settings.url())
                .timeout(settings.timeout())
                .header("Content-Type", "application/json")
                .header("Idempotency-Key", idempotencyKey)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        settings.headers().forEach(request::header);
        if (signature != null) {
            long timestamp = clock.instant().getEpochSecond();
            request.header(WebhookSignature.TIMESTAMP_HEADER, Long.toString(timestamp))
                    .header(WebhookSignature.SIGNATURE_HEADER, signature.sign(timestamp, body));
        }
        long started = System.nanoTime();
        long deadline = started + settings.timeout().toNanos();
        inFlight.incrementAndGet();
        try {
            // send(), not sendAsync(): the future sendAsync returns is completed on the common ForkJoinPool, so any
            // blocking task there (anywhere in the process) would stall every webhook. send() runs on this thread.
            return answered(http.send(request.build(), info -> new Snippet(deadline, timer)), started);
        } catch (HttpTimeoutException e) {
            return timedOut(started);
        } catch (IOException | RuntimeException e) {
            metrics.request("error", System.nanoTime() - started);
            breaker.failed();
            DeliveryException error = Failures.classify(e);
            String message = "request failed: " + e;
            return new Outcome(error.isRetriable() ? DeliveryException.retriable(message, e) : DeliveryException.permanent(message, e), null, null);
        } catch (InterruptedException e) {
            breaker.abandoned(); // send() has cancelled the exchange
            throw e;
        } finally {
            inFlight.decrementAndGet();
        }
    }

    private Outcome answered(HttpResponse<String> response, long started) {
        int status = response.statusCode();
        metrics.request(WebhookMetrics.outcome(status), System.nanoTime() - started);
        if (status / 100 == 2) {
            breaker.succeeded();
            return Outcome.DELIVERED;
        }
        boolean retriable = Failures.isRetriableStatus(status);
        if (retriable) breaker.failed();
        else breaker.succeeded(); // the destination is up; this request is what it refuses
        Duration retryAfter = status == 429 || status == 503
                ? RetryAfter.parse(response.headers().firstValue("Retry-After").orElse(null), clock.instant())
                : null;
        String snippet = snippet(response.body());
        return new Outcome(Failures.classifyStatus(status, "HTTP " + status + (snippet.isEmpty() ? "" : ": " + snippet)), status, retryAfter);
    }

    private Outcome timedOut(long started) {
        metrics.request("timeout", System.nanoTime() - started);
        breaker.failed();
        return Outcome.retriable("timed out after " + settings.timeout(), null);
    }

    static String snippet(String body) {
        String text = body == null ? "" : body.strip();
        return text.length() <= SNIPPET_CHARS ? text : text.substring(0, SNIPPET_CHARS - 1) + "…";
    }

    /** Stops the client: waits up to one request timeout for requests in flight, then aborts them. */
    @Override
    public void close() {
        metrics.close();
        timer.shutdownNow();
        http.shutdown();
        try {
            if (!http.awaitTermination(settings.timeout())) http.shutdownNow();
        } catch (InterruptedException e) {
            http.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Reads a response body: keeps its first {@link #SNIPPET_BYTES} bytes (for an error message) and drops the rest, and
     * gives up at the request's deadline. The request timeout of java.net.http ends when the headers arrive, so without
     * this a receiver trickling a body could hold a request slot forever.
     */
    private static final class Snippet implements BodySubscriber<String> {
        private final CompletableFuture<String> result = new CompletableFuture<>();
        private final ByteArrayOutputStream kept = new ByteArrayOutputStream();
        private final long deadline;
        private final ScheduledExecutorService timer;

        Snippet(long deadline, ScheduledExecutorService timer) {
            this.deadline = deadline;
            this.timer = timer;
        }

        @Override
        public CompletionStage<String> getBody() {
            return result;
        }

        @Override
        public void onSubscribe(Flow.Subscription subscription) {
            Runnable expire = () -> {
                if (result.completeExceptionally(new HttpTimeoutException("response body not complete within the request timeout"))) {
                    subscription.cancel();
                }
            };
            try {
                ScheduledFuture<?> expiry = timer.schedule(expire, deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
                result.whenComplete((body, error) -> expiry.cancel(false));
            } catch (RejectedExecutionException e) {
                expire.run(); // closing
                return;
            }
            subscription.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(List<ByteBuffer> buffers) {
            for (ByteBuffer buffer : buffers) {
                int take = Math.min(buffer.remaining(), SNIPPET_BYTES - kept.size());
                if (take <= 0) return;
                byte[] bytes = new byte[take];
                buffer.get(bytes);
                kept.write(bytes, 0, take);
            }
        }

        @Override
        public void onError(Throwable error) {
            result.completeExceptionally(error);
        }

        @Override
        public void onComplete() {
            result.complete(kept.toString(StandardCharsets.UTF_8));
        }
    }
}
