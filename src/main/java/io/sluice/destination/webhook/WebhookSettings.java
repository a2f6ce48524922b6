package io.sluice.destination.webhook;

import io.sluice.config.ConfigException;
import io.sluice.config.SluiceConfig.BreakerSettings;
import io.sluice.config.SluiceConfig.DestinationSettings;
import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A webhook destination's settings as its client uses them (keys and defaults: config.DestinationSchema, type
 * {@code webhook}), built from the typed {@link DestinationSettings.Webhook} in the configuration step.
 *
 * @param rateLimit null: unlimited
 * @param maxWait   the longest a request waits for a concurrency slot or a rate-limit token; beyond it the event is
 *                  reported as a retriable failure instead of waiting on (backpressure is a bound)
 */
record WebhookSettings(
        String id,
        URI url,
        boolean batchMode,
        int maxBatchEvents,
        Map<String, String> headers,
        Duration timeout,
        String secret,
        Rate rateLimit,
        int maxConcurrency,
        boolean orderPerUser,
        Breaker breaker,
        Duration maxWait) {

    /**
     * The circuit breaker (see {@link CircuitBreaker}): rates in percent over a count-based window of {@code window}
     * requests, judged from {@code minimumCalls}; {@code probes} requests when half-open.
     */
    record Breaker(int window, int minimumCalls, int failureRate, int errorRate, int probes, Duration coolDown) {
        @Override
        public String toString() {
            return "unreachable " + failureRate + "% / errors " + errorRate + "% of " + window + " (from "
                    + minimumCalls + "), cool-down " + coolDown + ", " + probes + " probes";
        }
    }

    /** Headers Sluice sets itself, plus those java.net.http refuses; a custom header may not use these names. */
    private static final Set<String> RESERVED_HEADERS = Set.of(
            "content-type",
            "idempotency-key",
            "x-sluice-signature",
            "x-sluice-timestamp",
            "connection",
            "content-length",
            "expect",
            "host",
            "upgrade");

    private static final Pattern HEADER_NAME = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");
    private static final Pattern RATE = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(events)?\\s*/\\s*s");

    /** A rate limit: {@code perSecond} requests, or events when {@code events}. */
    record Rate(double perSecond, boolean events) {
        @Override
        public String toString() {
            return perSecond + (events ? " events/s" : " requests/s");
        }
    }

    boolean signed() {
        return !secret.isEmpty();
    }

    /**
     * Checks what only a webhook can judge (header names, the rate's value, positive timeouts, percentages) and builds
     * the typed settings; no I/O. Throws {@link ConfigException} naming the key.
     */
    static WebhookSettings from(DestinationSettings.Webhook settings) {
        URI url = url(settings);
        if (settings.timeout().isZero() || settings.timeout().isNegative())
            throw invalid(settings, "timeout", "must be positive");
        BreakerSettings configured = settings.circuitBreaker();
        if (configured.coolDown().isNegative())
            throw invalid(settings, "circuitBreaker.coolDown", "must not be negative");
        Breaker breaker = new Breaker(
                configured.window(),
                configured.minimumCalls(),
                percent(settings, "circuitBreaker.failureRate", configured.failureRate()),
                percent(settings, "circuitBreaker.errorRate", configured.errorRate()),
                configured.probes(),
                configured.coolDown());
        if (settings.maxWait().isNegative()) throw invalid(settings, "maxWait", "must not be negative");
        return new WebhookSettings(
                settings.id(),
                url,
                settings.mode().equals("batch"),
                settings.maxBatchEvents(),
                headers(settings),
                settings.timeout(),
                settings.secret(),
                rate(settings),
                settings.maxConcurrency(),
                settings.orderPerUser(),
                breaker,
                settings.maxWait());
    }

    WebhookSettings withMaxWait(Duration wait) {
        return new WebhookSettings(
                id,
                url,
                batchMode,
                maxBatchEvents,
                headers,
                timeout,
                secret,
                rateLimit,
                maxConcurrency,
                orderPerUser,
                breaker,
                wait);
    }

    /** One line for the startup log; the secret and header values are not in it. */
    String describe() {
        return url + " (" + (batchMode ? "batch of up to " + maxBatchEvents : "event") + " mode, timeout " + timeout
                + ", concurrency " + maxConcurrency + ", rate " + (rateLimit == null ? "unlimited" : rateLimit)
                + ", " + (signed() ? "signed" : "unsigned") + ", headers " + headers.keySet() + ", order per user "
                + orderPerUser
                + ", breaker " + breaker + ", max wait " + maxWait + ")";
    }

    private static URI url(DestinationSettings.Webhook settings) {
        String raw = settings.url();
        try {
            URI uri = URI.create(raw.trim());
            if (("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) && uri.getHost() != null)
                return uri;
        } catch (IllegalArgumentException e) {
            // reported below
        }
        throw invalid(settings, "url", "must be an http:// or https:// URL, not '" + raw + "'");
    }

    /** The configured headers (single values, checked by the loader), checked against what Sluice sets itself. */
    private static Map<String, String> headers(DestinationSettings.Webhook settings) {
        Map<String, String> headers = new LinkedHashMap<>();
        settings.headers().forEach((name, text) -> {
            if (!HEADER_NAME.matcher(name).matches())
                throw invalid(settings, "headers." + name, "is not a valid header name");
            if (RESERVED_HEADERS.contains(name.toLowerCase(Locale.ROOT))) {
                throw invalid(settings, "headers." + name, "is set by Sluice and cannot be configured");
            }
            if (text.indexOf('\r') >= 0 || text.indexOf('\n') >= 0)
                throw invalid(settings, "headers." + name, "must not contain line breaks");
            headers.put(name, text);
        });
        return Map.copyOf(headers);
    }

    private static Rate rate(DestinationSettings.Webhook settings) {
        String raw = settings.rateLimit();
        if (raw == null || raw.isBlank()) return null;
        Matcher m = RATE.matcher(raw.trim());
        if (!m.matches())
            throw invalid(settings, "rateLimit", "must be a rate such as 200/s or 5000 events/s, not '" + raw + "'");
        double perSecond = Double.parseDouble(m.group(1));
        if (perSecond <= 0) throw invalid(settings, "rateLimit", "must be above 0");
        return new Rate(perSecond, m.group(2) != null);
    }

    private static int percent(DestinationSettings.Webhook settings, String key, int value) {
        if (value < 1 || value > 100) throw invalid(settings, key, "must be a percentage from 1 to 100");
        return value;
    }

    private static ConfigException invalid(DestinationSettings.Webhook settings, String key, String problem) {
        return new ConfigException("destination '" + settings.id() + "' " + key, problem);
    }
}
