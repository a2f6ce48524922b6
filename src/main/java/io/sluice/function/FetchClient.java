package io.sluice.function;

import io.sluice.config.SluiceConfig.FetchSettings;
import io.sluice.delivery.DeliveryException;
import io.sluice.delivery.FailureClass;
import io.sluice.delivery.Failures;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.InputStreamResponseListener;
import org.eclipse.jetty.client.StringRequestContent;
import org.eclipse.jetty.http.HttpCookieStore;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * The HTTP client behind one sync's {@code fetch} (Jetty's, for its resolver hook): every URL and every redirect
 * checked against the {@link HostAllowlist}, every resolved address checked before connecting, TLS verified, at most
 * {@code fetch.concurrency} calls in flight for the sync in this process, each bounded by {@code fetch.timeout} and
 * its batch's deadline, bodies capped at {@code fetch.maxResponseSize}, no cookies. A 429 or 503 with Retry-After
 * pauses the host: calls before then fail at once without a request ({@code NOT_SENT}), and their outcome says
 * when the pause ends, so the batch given up for it comes back then ({@link DependencyFailure#notBefore}). Calls block on virtual threads, never on the
 * JavaScript context's thread.
 */
final class FetchClient implements FetchCalls, AutoCloseable {
    private static final Set<String> FORBIDDEN_HEADERS =
            Set.of("host", "content-length", "transfer-encoding", "connection", "upgrade", "te", "trailer");

    /** What the function asked for (headers as given; the body as text). */
    record Request(String url, String method, Map<String, String> headers, String body) {}

    /** An answer: lower-cased header names, the body as UTF-8 text, the URL that answered (after redirects). */
    record Response(int status, Map<String, String> headers, String body, String url) {}

    /** How a call ended. */
    sealed interface Outcome {
        /** Only seen by calls sharing a lookup whose own call ended in an unexpected exception. */
        Outcome FAILED_UNEXPECTEDLY = new Failed(
                "the shared lookup failed unexpectedly",
                DeliveryException.of(FailureClass.INTERNAL, "the shared lookup failed unexpectedly", null));
    }

    /**
     * Answered; {@code dependencyFailure} when the status says the service is failing (5xx, 408, 429);
     * {@code resumeAt}: when a 429 or 503 said to call again (Retry-After), else null.
     */
    record Answered(Response response, DeliveryException dependencyFailure, Instant resumeAt) implements Outcome {
        Answered(Response response, DeliveryException dependencyFailure) {
            this(response, dependencyFailure, null);
        }
    }

    /**
     * Never answered: the service is unreachable, too slow or paused ({@code failure} says which); {@code resumeAt}:
     * the end of the host's Retry-After pause for a call not sent because of it, else null.
     */
    record Failed(String message, DeliveryException failure, Instant resumeAt) implements Outcome {
        Failed(String message, DeliveryException failure) {
            this(message, failure, null);
        }
    }

    /** Refused by the sync's limits (a host or address not allowed, a body too large): the event's problem. */
    record Refused(String message) implements Outcome {}

    /** Thrown by the resolver for an address the allowlist does not permit. */
    static final class BlockedAddress extends UnknownHostException {
        BlockedAddress(String message) {
            super(message);
        }
    }

    private final String syncId;
    private final FetchSettings settings;
    private final HostAllowlist allowlist;
    private final FetchCache cache;
    private final FetchMetrics metrics;
    private final Clock clock;
    private final Semaphore slots;
    private final HttpClient http;
    private final Map<String, Instant> pausedUntil = new ConcurrentHashMap<>();
    private final Map<String, CompletableFuture<Outcome>> lookups = new ConcurrentHashMap<>();

    FetchClient(String syncId, FetchSettings settings, FetchMetrics metrics, Clock clock) {
        this.syncId = syncId;
        this.settings = settings;
        this.allowlist = new HostAllowlist(settings.allowHosts(), settings.allowPrivate());
        this.cache = settings.cacheTtl().isPositive()
                ? new FetchCache(settings.cacheTtl(), settings.cacheMaxEntries(), clock)
                : null;
        this.metrics = metrics;
        this.clock = clock;
        this.slots = new Semaphore(settings.concurrency(), true);
        SslContextFactory.Client tls = new SslContextFactory.Client(); // trusts the JDK's CAs, checks host names
        tls.setEndpointIdentificationAlgorithm("HTTPS");
        this.http = new HttpClient();
        http.setSslContextFactory(tls);
        QueuedThreadPool threads = new QueuedThreadPool(Math.max(8, Math.min(64, settings.concurrency() + 4)), 2);
        threads.setName("sluice-fetch-" + syncId);
        threads.setDaemon(true);
        http.setExecutor(threads);
        http.setFollowRedirects(false); // followed here, each hop checked against the allowlist
        http.setHttpCookieStore(new HttpCookieStore.Empty());
        http.setConnectTimeout(settings.timeout().toMillis());
        http.setMaxConnectionsPerDestination(settings.concurrency());
        http.setUserAgentField(new HttpField("User-Agent", "Sluice-fetch"));
        http.setSocketAddressResolver((host, port, context, promise) -> {
            try {
                List<InetSocketAddress> addresses = new ArrayList<>();
                for (InetAddress address : InetAddress.getAllByName(host)) {
                    if (!allowlist.permitsAddress(host, port, address))
                        throw new BlockedAddress(host + " resolves to " + address.getHostAddress()
                                + ", a loopback or private address not allowed for sync " + syncId
                                + " (list it literally in fetch.allowHosts or its network in fetch.allowPrivate)");
                    addresses.add(new InetSocketAddress(address, port));
                }
                promise.succeeded(addresses);
            } catch (UnknownHostException e) {
                promise.failed(e);
            }
        });
        try {
            http.start();
        } catch (Exception e) {
            throw new IllegalStateException("could not start the fetch client of sync " + syncId, e);
        }
    }

    /** Performs one call, blocking the calling (virtual) thread; never throws. */
    @Override
    public Outcome call(Request request, long deadlineNanos) {
        long begun = System.nanoTime();
        URI url;
        try {
            url = new URI(request.url());
        } catch (URISyntaxException e) {
            return refused("?", "'" + request.url() + "' is not a URL", begun);
        }
        HostAllowlist.Entry entry = allowlist.match(url);
        if (entry == null)
            return refused(
                    "?",
                    describe(url) + " is not allowed: its host is not in fetch.allowHosts of sync " + syncId,
                    begun);
        String method = request.method();
        if (!settings.methods().contains(method))
            return refused(entry.text(), method + " is not in fetch.methods of sync " + syncId, begun);
        for (Map.Entry<String, String> h : request.headers().entrySet()) {
            String problem = headerProblem(h.getKey(), h.getValue());
            if (problem != null) return refused(entry.text(), problem, begun);
        }
        String cacheKey = cache != null && method.equals("GET") ? cacheKey(request) : null;
        if (cacheKey != null) {
            Response cached = cache.get(cacheKey);
            if (cached != null) {
                metrics.cache(entry.text(), true);
                return new Answered(cached, null);
            }
            // the same lookup already on its way (events of one user in one batch): share its answer
            CompletableFuture<Outcome> mine = new CompletableFuture<>();
            CompletableFuture<Outcome> theirs = lookups.putIfAbsent(cacheKey, mine);
            if (theirs != null) {
                metrics.cache(entry.text(), true);
                return theirs.join();
            }
            metrics.cache(entry.text(), false);
            Outcome outcome = Outcome.FAILED_UNEXPECTEDLY;
            try {
                outcome = send(request, url, entry, deadlineNanos, begun);
                if (outcome instanceof Answered a && FetchCache.cacheable(request, a.response()))
                    cache.put(cacheKey, a.response());
                return outcome;
            } finally {
                lookups.remove(cacheKey, mine);
                mine.complete(outcome);
            }
        }
        return send(request, url, entry, deadlineNanos, begun);
    }

    /** Sends the call within the sync's concurrency, unless its host asked to wait. */
    private Outcome send(Request request, URI url, HostAllowlist.Entry entry, long deadlineNanos, long begun) {
        Outcome notSent = pausedOutcome(url, entry, begun);
        if (notSent != null) return notSent;
        long wait = deadlineNanos - System.nanoTime();
        try {
            if (wait <= 0 || !slots.tryAcquire(wait, TimeUnit.NANOSECONDS))
                return failed(
                        entry.text(),
                        FailureClass.UNRESPONSIVE,
                        "no fetch slot of sync " + syncId
                                + " came free within the batch's fetch.batchTimeout (" + settings.concurrency()
                                + " calls in flight)",
                        begun);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return failed(entry.text(), FailureClass.UNRESPONSIVE, "interrupted", begun);
        }
        try {
            // a call that waited for its slot may have waited into a pause that an earlier call's answer began
            Outcome paused = pausedOutcome(url, entry, begun);
            return paused != null ? paused : exchange(request, url, entry, deadlineNanos, begun);
        } finally {
            slots.release();
        }
    }

    /** Null, or the outcome of a call not sent because its host asked to wait (Retry-After) until later. */
    private Outcome pausedOutcome(URI url, HostAllowlist.Entry entry, long begun) {
        Instant paused = pausedUntil.get(entry.text());
        if (paused == null || !clock.instant().isBefore(paused)) return null;
        // never sent (no attempt used): the batch comes back when the host may be called again
        String message = describe(url) + ": the service asked to wait until " + paused + " (Retry-After)";
        metrics.call(entry.text(), FetchMetrics.Outcome.FAILED, System.nanoTime() - begun);
        return new Failed(message, DeliveryException.of(FailureClass.NOT_SENT, message, null), paused);
    }

    private Outcome exchange(Request request, URI first, HostAllowlist.Entry entry, long deadlineNanos, long begun) {
        // fetch.timeout counts from the moment a slot is free: waiting for one is bounded by the batch's deadline
        long end =
                Math.min(deadlineNanos, System.nanoTime() + settings.timeout().toNanos());
        URI url = first;
        String method = request.method();
        String body = request.body();
        for (int hop = 0; ; hop++) {
            long left = end - System.nanoTime();
            if (left <= 0) return failed(entry.text(), FailureClass.UNRESPONSIVE, describe(url) + ": timed out", begun);
            org.eclipse.jetty.client.Request exchange = http.newRequest(url)
                    .method(method)
                    .timeout(left, TimeUnit.NANOSECONDS)
                    .headers(fields -> request.headers().forEach(fields::put));
            if (body != null) exchange.body(new StringRequestContent(body, StandardCharsets.UTF_8));
            InputStreamResponseListener listener = new InputStreamResponseListener();
            exchange.send(listener);
            org.eclipse.jetty.client.Response response;
            String text;
            try {
                response = listener.get(left, TimeUnit.NANOSECONDS);
                text = readCapped(listener.getInputStream(), url);
            } catch (TooLarge e) {
                exchange.abort(e);
                return refused(entry.text(), e.getMessage(), begun);
            } catch (ExecutionException | IOException | java.util.concurrent.TimeoutException e) {
                exchange.abort(e);
                Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
                for (Throwable t = cause; t != null; t = t.getCause()) {
                    if (t instanceof BlockedAddress blocked) return refused(entry.text(), blocked.getMessage(), begun);
                }
                return failed(entry.text(), Failures.ofExchange(cause), describe(url) + ": " + cause, begun);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                exchange.abort(e);
                return failed(entry.text(), FailureClass.UNRESPONSIVE, describe(url) + ": interrupted", begun);
            }
            int status = response.getStatus();
            String location = response.getHeaders().get("Location");
            if (isRedirect(status) && location != null) {
                if (hop >= settings.maxRedirects())
                    return refused(
                            entry.text(),
                            describe(url) + ": more than " + settings.maxRedirects()
                                    + " redirects (fetch.maxRedirects)",
                            begun);
                URI next;
                try {
                    next = url.resolve(new URI(location));
                } catch (URISyntaxException | IllegalArgumentException e) {
                    return refused(entry.text(), describe(url) + " redirects to an invalid URL", begun);
                }
                if (allowlist.match(next) == null)
                    return refused(
                            entry.text(),
                            describe(url) + " redirects to " + describe(next)
                                    + ", whose host is not in fetch.allowHosts of sync " + syncId,
                            begun);
                if (status == 303 || ((status == 301 || status == 302) && method.equals("POST"))) {
                    method = "GET";
                    body = null;
                }
                url = next;
                continue;
            }
            Map<String, String> headers = new LinkedHashMap<>();
            for (HttpField field : response.getHeaders()) {
                headers.merge(field.getLowerCaseName(), field.getValue(), (a, b) -> a + ", " + b);
            }
            Response answer = new Response(status, headers, text, url.toString());
            DeliveryException failing = null;
            Instant resumeAt = null;
            if (status >= 500 || status == 408 || status == 429) {
                failing = DeliveryException.of(Failures.ofStatus(status), describe(url) + " answered " + status, null);
                Duration retryAfter = retryAfter(headers.get("retry-after"));
                if (retryAfter != null && (status == 429 || status == 503)) {
                    resumeAt = clock.instant().plus(retryAfter);
                    pausedUntil.merge(entry.text(), resumeAt, (a, b) -> a.isAfter(b) ? a : b);
                }
                metrics.call(entry.text(), FetchMetrics.Outcome.HTTP_ERROR, System.nanoTime() - begun);
            } else {
                metrics.call(entry.text(), FetchMetrics.Outcome.OK, System.nanoTime() - begun);
            }
            return new Answered(answer, failing, resumeAt);
        }
    }

    private static final class TooLarge extends IOException {
        TooLarge(String message) {
            super(message);
        }
    }

    private String readCapped(InputStream in, URI url) throws IOException {
        try (in) {
            byte[] bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, settings.maxResponseSize() + 1));
            if (bytes.length > settings.maxResponseSize())
                throw new TooLarge(describe(url) + ": the response is larger than fetch.maxResponseSize ("
                        + settings.maxResponseSize() + " bytes)");
            return new String(bytes, StandardCharsets.UTF_8);
        }
    }

    private static boolean isRedirect(int status) {
        return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
    }

    /** Retry-After in seconds (an HTTP date is not honoured: the backoff applies), at most an hour. */
    static Duration retryAfter(String value) {
        if (value == null) return null;
        try {
            long seconds = Long.parseLong(value.trim());
            return seconds <= 0 ? null : Duration.ofSeconds(Math.min(seconds, 3600));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** A header the function may send: a token name, not one the client owns, a value without control characters. */
    static String headerProblem(String name, String value) {
        if (name.isEmpty() || !name.chars().allMatch(c -> c > 32 && c < 127 && "()<>@,;:\\\"/[]?={}".indexOf(c) < 0))
            return "'" + name + "' is not a valid header name";
        if (FORBIDDEN_HEADERS.contains(name.toLowerCase(java.util.Locale.ROOT)))
            return "header " + name + " is set by the client, not by functions";
        if (value.chars().anyMatch(c -> (c < 32 && c != '\t') || c == 127))
            return "the value of header " + name + " contains control characters";
        return null;
    }

    /** The URL as logs and dead letters show it: no query or fragment (they may carry keys). */
    static String describe(URI url) {
        String scheme = url.getScheme() == null ? "" : url.getScheme() + "://";
        String host = url.getHost() == null ? "" : url.getHost();
        String port = url.getPort() >= 0 ? ":" + url.getPort() : "";
        String path = url.getRawPath() == null ? "" : url.getRawPath();
        return scheme + host + port + path;
    }

    private static String cacheKey(Request request) {
        return request.method() + " " + request.url() + " " + new TreeMap<>(request.headers());
    }

    private Outcome refused(String host, String message, long begun) {
        metrics.call(host, FetchMetrics.Outcome.REFUSED, System.nanoTime() - begun);
        return new Refused(message);
    }

    private Outcome failed(String host, FailureClass failureClass, String message, long begun) {
        metrics.call(host, FetchMetrics.Outcome.FAILED, System.nanoTime() - begun);
        return new Failed(message, DeliveryException.of(failureClass, message, null));
    }

    @Override
    public void close() {
        try {
            http.stop();
        } catch (Exception e) {
            // stopping: nothing to do about it
        }
    }
}
