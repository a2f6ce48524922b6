package io.sluice.destination.webhook;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.config.ConfigException;
import io.sluice.config.SluiceConfig.DestinationSettings;
import java.net.URI;
import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A webhook destination's settings, typed and checked once (keys and defaults: ConfigSchema, type {@code webhook}).
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

    /** Reads and checks the settings (no I/O); throws {@link ConfigException} naming the key. */
    static WebhookSettings from(DestinationSettings settings) {
        URI url = url(settings);
        String mode = require(settings, "mode", String.class);
        if (!mode.equals("event") && !mode.equals("batch"))
            throw invalid(settings, "mode", "must be 'event' or 'batch', not '" + mode + "'");
        Duration timeout = require(settings, "timeout", Duration.class);
        if (timeout.isZero() || timeout.isNegative()) throw invalid(settings, "timeout", "must be positive");
        Duration coolDown = require(settings, "circuitBreaker.coolDown", Duration.class);
        if (coolDown.isNegative()) throw invalid(settings, "circuitBreaker.coolDown", "must not be negative");
        Breaker breaker = new Breaker(
                positive(settings, "circuitBreaker.window"),
                positive(settings, "circuitBreaker.minimumCalls"),
                percent(settings, "circuitBreaker.failureRate"),
                percent(settings, "circuitBreaker.errorRate"),
                positive(settings, "circuitBreaker.probes"),
                coolDown);
        Duration maxWait = require(settings, "maxWait", Duration.class);
        if (maxWait.isNegative()) throw invalid(settings, "maxWait", "must not be negative");
        String secret = settings.string("secret");
        return new WebhookSettings(
                settings.id(),
                url,
                mode.equals("batch"),
                positive(settings, "maxBatchEvents"),
                headers(settings),
                timeout,
                secret == null ? "" : secret,
                rate(settings),
                positive(settings, "maxConcurrency"),
                require(settings, "orderPerUser", Boolean.class),
                breaker,
                maxWait);
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

    private static URI url(DestinationSettings settings) {
        String raw = require(settings, "url", String.class);
        try {
            URI uri = URI.create(raw.trim());
            if (("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) && uri.getHost() != null)
                return uri;
        } catch (IllegalArgumentException e) {
            // reported below
        }
        throw invalid(settings, "url", "must be an http:// or https:// URL, not '" + raw + "'");
    }

    private static Map<String, String> headers(DestinationSettings settings) {
        Object value = settings.opaque("headers");
        Map<String, String> headers = new LinkedHashMap<>();
        if (value == null) return Map.of();
        if (!(value instanceof JsonNode node) || !(node.isObject() || node.isNull())) {
            throw invalid(settings, "headers", "must be a mapping of header name to value");
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> header = it.next();
            String name = header.getKey();
            if (!HEADER_NAME.matcher(name).matches())
                throw invalid(settings, "headers." + name, "is not a valid header name");
            if (RESERVED_HEADERS.contains(name.toLowerCase(Locale.ROOT))) {
                throw invalid(settings, "headers." + name, "is set by Sluice and cannot be configured");
            }
            if (!header.getValue().isValueNode() || header.getValue().isNull()) {
                throw invalid(settings, "headers." + name, "must be a single value");
            }
            String text = header.getValue().asText();
            if (text.indexOf('\r') >= 0 || text.indexOf('\n') >= 0)
                throw invalid(settings, "headers." + name, "must not contain line breaks");
            headers.put(name, text);
        }
        return Map.copyOf(headers);
    }

    private static Rate rate(DestinationSettings settings) {
        String raw = settings.string("rateLimit");
        if (raw == null || raw.isBlank()) return null;
        Matcher m = RATE.matcher(raw.trim());
        if (!m.matches())
            throw invalid(settings, "rateLimit", "must be a rate such as 200/s or 5000 events/s, not '" + raw + "'");
        double perSecond = Double.parseDouble(m.group(1));
        if (perSecond <= 0) throw invalid(settings, "rateLimit", "must be above 0");
        return new Rate(perSecond, m.group(2) != null);
    }

    private static int percent(DestinationSettings settings, String key) {
        int value = positive(settings, key);
        if (value > 100) throw invalid(settings, key, "must be a percentage from 1 to 100");
        return value;
    }

    private static int positive(DestinationSettings settings, String key) {
        int value = require(settings, key, Integer.class);
        if (value < 1) throw invalid(settings, key, "must be at least 1");
        return value;
    }

    private static <T> T require(DestinationSettings settings, String key, Class<T> type) {
        Object value = settings.get(key);
        if (value == null) throw invalid(settings, key, "is required");
        if (!type.isInstance(value))
            throw invalid(
                    settings,
                    key,
                    "must be " + type.getSimpleName().toLowerCase(Locale.ROOT) + ", not '" + value + "'");
        return type.cast(value);
    }

    private static ConfigException invalid(DestinationSettings settings, String key, String problem) {
        return new ConfigException("destination '" + settings.id() + "' " + key, problem);
    }
}
