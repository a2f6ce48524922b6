package io.sluice.destination.webhook;

import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.delivery.DeliveryException;
import io.sluice.delivery.FailureClass;
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
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends one request to a webhook destination, within its limits: a Retry-After pause for the whole destination, the
 * circuit breaker, one of the destination's own slots (an AIMD {@link ConcurrencyLimit}) and a rate-limit token. A
 * request the limits refuse is not sent and fails fast as {@link FailureClass#NOT_SENT} (its event is parked in the
 * retry queue without using up an attempt); slots and tokens are waited for at most {@link WebhookSettings#maxWait()}.
 * Never throws for a failed exchange: the {@link Outcome} says what happened, its class decided by {@link Failures}.
 */
final class WebhookClient implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(WebhookClient.class);
    /** Longest response-body snippet kept for an error message. */
    static final int SNIPPET_CHARS = 500;

    private static final int SNIPPET_BYTES = 4 * SNIPPET_CHARS;

    private final WebhookSettings settings;
    private final Clock clock;
    private final HttpClient http;
    private final ConcurrencyLimit slots;
    private final RateLimiter rateLimiter;
    private final CircuitBreaker breaker;
    private final WebhookSignature signature;
    private final AtomicInteger inFlight = new AtomicInteger();
    /** Until when the destination asked (Retry-After) not to be called; Instant.MIN: not paused. */
    private final AtomicReference<Instant> pausedUntil = new AtomicReference<>(Instant.MIN);

    private final WebhookMetrics metrics;
    /** Ends response bodies that outlast their request's timeout (one daemon thread; its tasks only cancel). */
    private final ScheduledExecutorService timer;

    /** What became of one request: {@code error == null} means a 2xx. */
    record Outcome(DeliveryException error, Integer statusCode, Duration retryAfter) {
        static final Outcome DELIVERED = new Outcome(null, null, null);

        boolean delivered() {
            return error == null;
        }

        FailureClass failureClass() {
            return error == null ? null : error.failureClass();
        }

        static Outcome notSent(String message, Duration retryAfter) {
            return new Outcome(DeliveryException.of(FailureClass.NOT_SENT, message, null), null, retryAfter);
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
        this.slots = new ConcurrencyLimit(settings.id(), settings.maxConcurrency(), settings.timeout(), clock);
        this.rateLimiter = settings.rateLimit() == null
                ? null
                : new RateLimiter(settings.rateLimit().perSecond(), clock);
        this.breaker = new CircuitBreaker("webhook destination " + settings.id(), settings.breaker(), clock);
        this.signature = settings.signed() ? new WebhookSignature(settings.secret()) : null;
        this.metrics = new WebhookMetrics(registry, settings.id(), inFlight, breaker, slots);
        ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(
                1,
                Thread.ofPlatform()
                        .name("sluice-webhook-" + settings.id() + "-timer")
                        .daemon()
                        .factory());
        timer.setRemoveOnCancelPolicy(true);
        this.timer = timer;
    }

    /**
     * POSTs {@code body} (JSON) with this idempotency key; {@code events} is how many events it carries (for an
     * events/s rate limit). Throws only when interrupted.
     */
    Outcome send(byte[] body, String idempotencyKey, int events) throws InterruptedException {
        Outcome paused = paused();
        if (paused != null) return paused;
        CircuitBreaker.Permit permit = breaker.tryPass();
        if (permit == null) return rejectedByBreaker();
        if (!slots.tryAcquire(settings.maxWait())) {
            permit.abandon();
            metrics.rejected("busy");
            return Outcome.notSent(
                    "not sent: all " + slots.current() + " request slots stayed busy for " + settings.maxWait(), null);
        }
        Outcome outcome = null;
        try {
            Outcome pausedMeanwhile = paused(); // a 429 may have arrived while this request waited for its slot
            if (pausedMeanwhile != null) return pausedMeanwhile;
            if (rateLimiter != null) {
                Duration wait = rateLimiter.reserve(settings.rateLimit().events() ? events : 1, settings.maxWait());
                if (wait == null) {
                    metrics.rejected("rate_limited");
                    return Outcome.notSent(
                            "not sent: the rate limit of " + settings.rateLimit() + " would have delayed it more than "
                                    + settings.maxWait(),
                            rateLimiter.untilFree());
                }
                if (wait.isPositive()) TimeUnit.NANOSECONDS.sleep(wait.toNanos());
            }
            outcome = exchange(body, idempotencyKey);
            permit.record(outcome.failureClass());
            if (outcome.failureClass() == FailureClass.BACKPRESSURE) backpressure(outcome.retryAfter());
            return outcome;
        } finally {
            permit.abandon(); // no-op once recorded
            // A throttle with Retry-After already pauses the whole destination for as long as it asked; halving the
            // limit on top would serialise the requests after the pause. Throttles without it lower the limit.
            slots.release(
                    outcome != null && outcome.delivered(),
                    outcome != null
                            && outcome.failureClass() == FailureClass.BACKPRESSURE
                            && outcome.retryAfter() == null);
        }
    }

    /**
     * How long every request would be refused without being sent: the circuit is open until its next probe, or the
     * destination asked (Retry-After) to be left alone for longer than a request would wait out ({@code maxWait}).
     */
    Duration unavailableFor() {
        Duration untilProbe = breaker.untilProbe();
        Duration paused = Duration.between(clock.instant(), pausedUntil.get());
        if (paused.compareTo(settings.maxWait()) <= 0) paused = Duration.ZERO;
        return untilProbe.compareTo(paused) >= 0 ? untilProbe : paused;
    }

    /** A 429/503: honoured for the whole destination when it says how long (Retry-After). */
    private void backpressure(Duration retryAfter) {
        if (retryAfter == null || !retryAfter.isPositive()) return;
        Instant until = clock.instant().plus(retryAfter);
        Instant before = pausedUntil.getAndAccumulate(until, (a, b) -> a.isAfter(b) ? a : b);
        metrics.backpressureWait(retryAfter);
        if (!before.isAfter(clock.instant())) {
            log.info(
                    "Webhook destination {} asked to wait {} ms (Retry-After); pausing all its requests",
                    settings.id(),
                    retryAfter.toMillis());
        }
    }

    /**
     * Null when the destination may be called now. A pause no longer than {@code maxWait} is waited out here, so the
     * requests it held go out together when it ends (parking each would let the first 429 of the next round park
     * the rest again, one event a round); a longer pause parks the request (not sent, no attempt used).
     */
    private Outcome paused() throws InterruptedException {
        Duration left = Duration.between(clock.instant(), pausedUntil.get());
        if (!left.isPositive()) return null;
        if (left.compareTo(settings.maxWait()) <= 0) {
            metrics.rejected("paused_waited");
            TimeUnit.NANOSECONDS.sleep(left.toNanos());
            return null;
        }
        metrics.rejected("paused");
        return Outcome.notSent(
                "not sent: the destination asked to wait (Retry-After) " + left.toMillis() + " ms more", left);
    }

    private Outcome rejectedByBreaker() {
        Duration untilProbe = breaker.untilProbe();
        metrics.rejected("circuit_open");
        return Outcome.notSent(
                "not sent: the circuit is "
                        + breaker.state().name().toLowerCase(Locale.ROOT).replace('_', '-') + " (next probe in "
                        + untilProbe.toMillis() + " ms)",
                untilProbe.isPositive() ? untilProbe : null);
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
        } catch (IOException | RuntimeException e) {
            FailureClass failure = Failures.ofExchange(e);
            boolean timeout = e instanceof HttpTimeoutException && failure == FailureClass.UNRESPONSIVE;
            metrics.request(timeout ? "timeout" : "error", System.nanoTime() - started);
            String message = timeout
                    ? "timed out after " + settings.timeout()
                    : (failure == FailureClass.UNREACHABLE ? "unreachable: " : "request failed: ") + e;
            return new Outcome(DeliveryException.of(failure, message, e), null, null);
        } finally {
            inFlight.decrementAndGet();
        }
    }

    private Outcome answered(HttpResponse<String> response, long started) {
        int status = response.statusCode();
        metrics.request(WebhookMetrics.outcome(status), System.nanoTime() - started);
        if (status / 100 == 2) return Outcome.DELIVERED;
        Duration retryAfter = status == 429 || status == 503
                ? RetryAfter.parse(response.headers().firstValue("Retry-After").orElse(null), clock.instant())
                : null;
        String snippet = snippet(response.body());
        return new Outcome(
                Failures.classifyStatus(status, "HTTP " + status + (snippet.isEmpty() ? "" : ": " + snippet)),
                status,
                retryAfter);
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
                if (result.completeExceptionally(
                        new HttpTimeoutException("response body not complete within the request timeout"))) {
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
