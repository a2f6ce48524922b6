package io.sluice.function;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.sluice.config.SluiceConfig.FetchSettings;
import io.sluice.delivery.DeliveryException;
import io.sluice.delivery.FailureClass;
import io.sluice.delivery.Failures;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The answers of {@code sluice function test --mock FILE}: a JSON or YAML list (or {@code {responses: [...]}}) of
 * entries, each matching a call by {@code method} (optional: any) and exactly one of {@code url} (the whole URL),
 * {@code urlPrefix} or {@code urlPattern} (a regular expression for the whole URL), and answering with {@code status}
 * (default 200), {@code headers}, {@code body} (a string as it is, anything else as its JSON) after an optional
 * {@code delay} (e.g. 150ms, 3s), or failing without an answer ({@code fail: unreachable | unresponsive}). The first
 * matching entry answers; a call no entry matches fails, naming its method and URL. Answers go through the same
 * rules as the real client's: with a sync's {@code fetch} settings its allowlist and methods apply, a delay past
 * {@code fetch.timeout} is a timeout, a 5xx/408/429 shows the service failing, and a 429/503 with Retry-After pauses
 * the host. Nothing leaves the machine.
 */
public final class MockResponses implements FetchCalls {
    private static final Set<String> KEYS =
            Set.of("method", "url", "urlPrefix", "urlPattern", "status", "headers", "body", "delay", "fail");
    private static final Pattern DELAY = Pattern.compile("(\\d+)\\s*(ms|s)?");

    /** A mock file that cannot be used: the message names the file and, when it is one entry's fault, the entry. */
    public static final class BadMockFile extends RuntimeException {
        BadMockFile(String message) {
            super(message);
        }
    }

    /** One entry of the file: what it matches and how it answers ({@code fail}: null, or the class of no answer). */
    private record Entry(
            int number,
            String method,
            Pattern url,
            int status,
            Map<String, String> headers,
            String body,
            Duration delay,
            FailureClass fail) {}

    private final String file;
    private final List<Entry> entries;
    private FetchSettings settings = FetchSettings.NONE;
    private HostAllowlist allowlist;
    private Clock clock; // the tool's, given by under(): mocks are only used through it
    private final Map<String, Instant> pausedUntil = new ConcurrentHashMap<>();

    private MockResponses(String file, List<Entry> entries) {
        this.file = file;
        this.entries = entries;
    }

    /** Reads and checks {@code file}; throws {@link BadMockFile} naming the file and the entry at fault. */
    public static MockResponses load(Path file) {
        String name = file.toString();
        JsonNode tree;
        try {
            tree = new ObjectMapper(new YAMLFactory()).readTree(file.toFile()); // YAML reads JSON too
        } catch (JsonProcessingException e) {
            String what = String.valueOf(e.getOriginalMessage())
                    .lines()
                    .findFirst()
                    .orElse("")
                    .strip();
            throw new BadMockFile(name + " is not valid JSON or YAML: " + what
                    + (e.getLocation() == null
                            ? ""
                            : " (line " + e.getLocation().getLineNr() + ")"));
        } catch (IOException e) {
            throw new BadMockFile("cannot read the mock file " + name + ": " + e);
        }
        if (tree instanceof ObjectNode object && object.size() == 1 && object.has("responses"))
            tree = object.get("responses");
        if (!(tree instanceof ArrayNode list) || list.isEmpty())
            throw new BadMockFile(name + " must hold a non-empty list of mock responses (or {responses: [...]}),"
                    + " each with method, url/urlPrefix/urlPattern, status, headers, body, delay");
        List<Entry> entries = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) entries.add(entry(name, i + 1, list.get(i)));
        return new MockResponses(name, List.copyOf(entries));
    }

    /** Applies the sync's fetch settings (its allowlist, methods and timeout) and the tool's clock. */
    MockResponses under(FetchSettings settings, Clock clock) {
        this.settings = settings;
        this.allowlist = settings.allowHosts().isEmpty()
                ? null
                : new HostAllowlist(settings.allowHosts(), settings.allowPrivate());
        this.clock = java.util.Objects.requireNonNull(clock, "clock");
        return this;
    }

    /** How many entries the file has. */
    public int size() {
        return entries.size();
    }

    private static Entry entry(String file, int number, JsonNode node) {
        String at = file + ", entry " + number + ": ";
        if (!(node instanceof ObjectNode e)) throw new BadMockFile(at + "must be an object, got " + node);
        for (String key : (Iterable<String>) e::fieldNames) {
            if (!KEYS.contains(key))
                throw new BadMockFile(at + "unknown key '" + key + "' (known: method, url, urlPrefix, urlPattern,"
                        + " status, headers, body, delay, fail)");
        }
        String method = null;
        if (e.has("method")) {
            method = e.get("method").asText().trim().toUpperCase(Locale.ROOT);
            if (!method.matches("[A-Z]+"))
                throw new BadMockFile(at + "method must be an HTTP method, got " + e.get("method"));
        }
        List<String> given = new ArrayList<>();
        for (String key : List.of("url", "urlPrefix", "urlPattern")) if (e.has(key)) given.add(key);
        if (given.size() != 1)
            throw new BadMockFile(at + "needs exactly one of url, urlPrefix or urlPattern"
                    + (given.isEmpty() ? "" : ", got " + String.join(" and ", given)));
        String key = given.getFirst();
        JsonNode value = e.get(key);
        if (!value.isTextual() || value.asText().isBlank())
            throw new BadMockFile(at + key + " must be a non-empty string, got " + value);
        Pattern url;
        try {
            url = switch (key) {
                case "url" -> Pattern.compile(Pattern.quote(value.asText()));
                case "urlPrefix" -> Pattern.compile(Pattern.quote(value.asText()) + ".*", Pattern.DOTALL);
                default -> Pattern.compile(value.asText());
            };
        } catch (PatternSyntaxException ex) {
            throw new BadMockFile(at + "urlPattern is not a regular expression: " + ex.getDescription() + " near index "
                    + ex.getIndex());
        }
        int status = 200;
        if (e.has("status")) {
            JsonNode s = e.get("status");
            if (!s.canConvertToInt() || !s.isIntegralNumber() || s.asInt() < 100 || s.asInt() > 599)
                throw new BadMockFile(at + "status must be an HTTP status 100-599, got " + s);
            status = s.asInt();
        }
        Map<String, String> headers = new LinkedHashMap<>();
        if (e.has("headers")) {
            if (!(e.get("headers") instanceof ObjectNode h))
                throw new BadMockFile(at + "headers must be an object of name: value, got " + e.get("headers"));
            for (Map.Entry<String, JsonNode> header : h.properties()) {
                if (!header.getValue().isValueNode() || header.getValue().isNull())
                    throw new BadMockFile(
                            at + "header " + header.getKey() + " must be a string, got " + header.getValue());
                headers.put(
                        header.getKey().toLowerCase(Locale.ROOT),
                        header.getValue().asText());
            }
        }
        String body = "";
        if (e.has("body") && !e.get("body").isNull()) {
            JsonNode b = e.get("body");
            body = b.isTextual() ? b.asText() : b.toString();
            if (!b.isTextual()) headers.putIfAbsent("content-type", "application/json");
        }
        Duration delay = Duration.ZERO;
        if (e.has("delay")) {
            Matcher m = DELAY.matcher(e.get("delay").asText().trim().toLowerCase(Locale.ROOT));
            if (!e.get("delay").isValueNode() || !m.matches())
                throw new BadMockFile(at + "delay must be a duration such as 150ms or 3s, got " + e.get("delay"));
            long n = Long.parseLong(m.group(1));
            delay = "s".equals(m.group(2)) ? Duration.ofSeconds(n) : Duration.ofMillis(n);
        }
        FailureClass fail = null;
        if (e.has("fail")) {
            fail = switch (e.get("fail").asText()) {
                case "unreachable" -> FailureClass.UNREACHABLE;
                case "unresponsive" -> FailureClass.UNRESPONSIVE;
                default ->
                    throw new BadMockFile(
                            at + "fail must be unreachable (no connection) or unresponsive (no answer), got "
                                    + e.get("fail"));
            };
            if (e.has("status") || e.has("body") || e.has("headers"))
                throw new BadMockFile(at + "fail is a call without an answer: it takes no status, headers or body");
        }
        return new Entry(number, method, url, status, Map.copyOf(headers), body, delay, fail);
    }

    @Override
    public FetchClient.Outcome call(FetchClient.Request request, long deadlineNanos) {
        String url = request.url();
        String shown;
        String host;
        try {
            URI parsed = new URI(url);
            shown = FetchClient.describe(parsed);
            host = parsed.getHost() + ":" + parsed.getPort();
            if (allowlist != null) {
                if (allowlist.match(parsed) == null)
                    return new FetchClient.Refused(
                            shown + " is not allowed: its host is not in the sync's fetch.allowHosts");
                if (!settings.methods().contains(request.method()))
                    return new FetchClient.Refused(request.method() + " is not in the sync's fetch.methods");
            }
        } catch (URISyntaxException e) {
            return new FetchClient.Refused("'" + url + "' is not a URL");
        }
        Entry entry = null;
        for (Entry candidate : entries) {
            if ((candidate.method() == null || candidate.method().equals(request.method()))
                    && candidate.url().matcher(url).matches()) {
                entry = candidate;
                break;
            }
        }
        if (entry == null)
            return new FetchClient.Refused("no mock response in " + file + " matches " + request.method() + " " + url);
        Instant paused = pausedUntil.get(host);
        if (paused != null && clock.instant().isBefore(paused)) {
            String message = shown + ": the service asked to wait until " + paused + " (Retry-After)";
            return new FetchClient.Failed(message, DeliveryException.of(FailureClass.NOT_SENT, message, null), paused);
        }
        long end =
                Math.min(deadlineNanos, System.nanoTime() + settings.timeout().toNanos());
        long wait = Math.min(entry.delay().toNanos(), Math.max(0, end - System.nanoTime()));
        try {
            TimeUnit.NANOSECONDS.sleep(wait); // the mocked service's own slowness
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return failed(FailureClass.UNRESPONSIVE, shown + ": interrupted");
        }
        if (entry.delay().toNanos() > wait)
            return failed(
                    FailureClass.UNRESPONSIVE,
                    shown + ": timed out (mock entry " + entry.number() + " answers after "
                            + entry.delay().toMillis() + " ms; fetch.timeout is "
                            + settings.timeout().toMillis() + " ms)");
        if (entry.fail() != null)
            return failed(
                    entry.fail(),
                    shown + ": " + entry.fail().name().toLowerCase(Locale.ROOT) + " (mock entry " + entry.number()
                            + ")");
        FetchClient.Response response = new FetchClient.Response(entry.status(), entry.headers(), entry.body(), url);
        int status = entry.status();
        if (status >= 500 || status == 408 || status == 429) {
            DeliveryException failing =
                    DeliveryException.of(Failures.ofStatus(status), shown + " answered " + status, null);
            Duration retryAfter = FetchClient.retryAfter(entry.headers().get("retry-after"));
            Instant resumeAt = null;
            if (retryAfter != null && (status == 429 || status == 503)) {
                resumeAt = clock.instant().plus(retryAfter);
                pausedUntil.merge(host, resumeAt, (a, b) -> a.isAfter(b) ? a : b);
            }
            return new FetchClient.Answered(response, failing, resumeAt);
        }
        return new FetchClient.Answered(response, null);
    }

    private static FetchClient.Outcome failed(FailureClass failureClass, String message) {
        return new FetchClient.Failed(message, DeliveryException.of(failureClass, message, null));
    }
}
