package io.sluice.collector;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.sluice.support.TestCollector;
import io.sluice.support.TopicReader;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The official browser SDK, {@code @segment/analytics-next} (UMD build from npm, see src/test/browser), in real
 * headless Chromium, against a real collector: a page on another origin (so every request is cross-origin, with
 * CORS preflight because of the SDK's Authorization header) sends identify, track and page, and they must arrive
 * in Kafka enriched by the collector.
 *
 * <p>Fails, like every browser test (support/Browser), where Chromium or the npm dependencies are missing: a
 * skipped browser test proves nothing, and {@code .ci/run} installs both.
 * Nothing leaves the machine: the SDK gets inline CDN settings, and Chromium resolves no host name but localhost.
 */
class BrowserSdkTest {
    private static final Path BROWSER_DIR = Path.of("src", "test", "browser");
    private static final Path UMD_BUNDLE =
            BROWSER_DIR.resolve("node_modules/@segment/analytics-next/dist/umd/index.js");
    private static final Path PAGE = BROWSER_DIR.resolve("page.html");
    private static final Duration REPORT_TIMEOUT = Duration.ofSeconds(40);

    /** Chromium's stdout and stderr (console messages included), for failure messages. */
    private Path chromiumLog;
    /** "METHOD /path" of every request the page server saw, for failure messages. */
    private final List<String> pageRequests = Collections.synchronizedList(new ArrayList<>());

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS) // a safety net; the waits below are bounded well within it
    void analyticsNextInHeadlessChromiumDeliversToKafka() throws Exception {
        Optional<Path> chromium = findChromium();
        if (chromium.isEmpty()) {
            fail("The browser SDK test needs Chromium (no /usr/bin/chromium and no 'chromium' on PATH):"
                    + " apt-get install chromium chromium-driver (.ci/run does)");
        }
        if (!Files.isRegularFile(UMD_BUNDLE)) {
            fail("The browser SDK test needs the SDK from npm (" + UMD_BUNDLE + " is missing):"
                    + " run 'npm ci' in src/test/browser (.ci/run does)");
        }

        String runId = UUID.randomUUID().toString().substring(0, 8);
        CompletableFuture<JsonNode> report = new CompletableFuture<>();
        Path profile = Files.createTempDirectory("sluice-chromium-profile");
        chromiumLog = profile.resolveSibling(profile.getFileName() + ".log");

        try (TestCollector collector = TestCollector.start()) {
            URI collectorUri = URI.create(collector.url("/"));
            String apiHost = collectorUri.getHost() + ":" + collectorUri.getPort() + "/v1";
            HttpServer pages = startPageServer(apiHost, runId, report);
            Process browser = null;
            try {
                String pageUrl = "http://127.0.0.1:" + pages.getAddress().getPort() + "/";
                browser = startChromium(chromium.get(), profile, pageUrl);
                JsonNode result = awaitReport(report, browser);
                assertThat(result.path("ok").asBoolean())
                        .as("the page reports delivery problems: %s%n%s", result, diagnostics())
                        .isTrue();
                // The page reports once the SDK has had all three calls answered: the collector answers 200 only
                // after Kafka acknowledged, so the events are in the topic now.
                List<JsonNode> events =
                        TopicReader.read(collector.bootstrapServers(), collector.topic(), 3, Duration.ofSeconds(10))
                                .stream()
                                .map(record -> TopicReader.json(record.value()))
                                .toList();
                assertEvents(events, runId, pageUrl, result);
                assertOnlyLocalTraffic(result);
            } finally {
                if (browser != null) stop(browser);
                pages.stop(0);
            }
        } finally {
            deleteRecursively(profile);
            Files.deleteIfExists(chromiumLog);
        }
    }

    private void assertEvents(List<JsonNode> events, String runId, String pageUrl, JsonNode report) {
        String context = "events in Kafka: " + events + "\npage report: " + report + "\n" + diagnostics();
        assertThat(events).as(context).hasSize(3);
        Map<String, JsonNode> byType =
                events.stream().collect(Collectors.toMap(e -> e.path("type").asText(), Function.identity()));
        assertThat(byType).as(context).containsOnlyKeys("identify", "track", "page");
        String userId = "browser-user-" + runId;

        JsonNode identify = byType.get("identify");
        assertThat(identify.path("userId").asText()).isEqualTo(userId);
        assertThat(identify.path("traits").path("email").asText()).isEqualTo("browser-" + runId + "@example.com");
        assertThat(identify.path("traits").path("plan").asText()).isEqualTo("enterprise");
        assertThat(identify.path("traits").path("logins").asInt()).isEqualTo(7);

        JsonNode track = byType.get("track");
        assertThat(track.path("event").asText()).isEqualTo("Browser SDK Checked " + runId);
        assertThat(track.path("userId").asText())
                .as("track after identify carries the userId")
                .isEqualTo(userId);
        assertThat(track.path("properties").path("runId").asText()).isEqualTo(runId);
        assertThat(track.path("properties").path("answer").asInt()).isEqualTo(42);
        assertThat(track.path("properties").path("nested").path("ok").asBoolean())
                .isTrue();

        JsonNode page = byType.get("page");
        assertThat(page.path("name").asText()).isEqualTo("Browser SDK Page " + runId);
        assertThat(page.path("category").asText()).isEqualTo("Docs");
        assertThat(page.path("userId").asText()).isEqualTo(userId);
        assertThat(page.path("properties").path("runId").asText()).isEqualTo(runId);
        assertThat(page.path("context").path("page").path("url").asText()).startsWith(pageUrl);

        String anonymousId = identify.path("anonymousId").asText();
        assertThat(anonymousId).as("the SDK's anonymousId").isNotEmpty();
        for (JsonNode event : events) {
            String type = event.path("type").asText();
            assertThat(event.path("sourceId").asText()).as("%s sourceId", type).isEqualTo("web");
            assertThat(event.path("receivedAt").asText())
                    .as("%s receivedAt", type)
                    .isNotEmpty();
            assertThat(event.path("messageId").asText())
                    .as("%s messageId, the SDK's own", type)
                    .startsWith("ajs-next-");
            assertThat(event.path("anonymousId").asText())
                    .as("%s anonymousId", type)
                    .isEqualTo(anonymousId);
            assertThat(event.path("context").path("ip").asText())
                    .as("%s context.ip", type)
                    .isEqualTo("127.0.0.1");
            assertThat(event.path("context").path("library").path("name").asText())
                    .as("%s library", type)
                    .isEqualTo("analytics.js");
            assertThat(event.path("context").path("library").path("version").asText())
                    .as("%s library version", type)
                    .startsWith("next-");
            assertThat(event.path("context").path("userAgent").asText())
                    .as("%s userAgent", type)
                    .contains("Chrome");
            assertThat(event.has("writeKey"))
                    .as("%s must not carry the write key", type)
                    .isFalse();
        }
        assertThat(events.stream().map(e -> e.path("messageId").asText()).distinct())
                .hasSize(3);
    }

    /** Every URL the page fetched (resource timing) is on loopback. */
    private void assertOnlyLocalTraffic(JsonNode report) {
        assertThat(pageRequests).as("requests to the page server").contains("GET /", "GET /analytics-next/index.js");
        List<String> resources = new ArrayList<>();
        report.path("resources").forEach(r -> resources.add(r.asText()));
        // The collector was reached (its events are in Kafka, asserted above); its requests are not always in the
        // page's resource timing yet when the page reports, so only "everything is on loopback" is checked here.
        assertThat(resources)
                .as("the page's resources")
                .isNotEmpty()
                .allMatch(url -> url.startsWith("http://127.0.0.1:"), "is on 127.0.0.1");
    }

    // ---- the page server: another origin than the collector's ------------------------------------------------

    private HttpServer startPageServer(String apiHost, String runId, CompletableFuture<JsonNode> report)
            throws IOException {
        byte[] page = Files.readString(PAGE)
                .replace("__API_HOST__", apiHost)
                .replace("__WRITE_KEY__", TestCollector.WRITE_KEY)
                .replace("__RUN_ID__", runId)
                .getBytes(StandardCharsets.UTF_8);
        byte[] bundle = Files.readAllBytes(UMD_BUNDLE);
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", exchange -> {
            String method = exchange.getRequestMethod();
            String path = exchange.getRequestURI().getPath();
            pageRequests.add(method + " " + path);
            try (exchange) {
                if (method.equals("GET") && path.equals("/")) {
                    respond(exchange, 200, "text/html; charset=utf-8", page);
                } else if (method.equals("GET") && path.equals("/analytics-next/index.js")) {
                    respond(exchange, 200, "text/javascript; charset=utf-8", bundle);
                } else if (method.equals("POST") && path.equals("/report")) {
                    byte[] body = exchange.getRequestBody().readAllBytes();
                    report.complete(TopicReader.json(new String(body, StandardCharsets.UTF_8)));
                    respond(exchange, 204, null, null);
                } else {
                    respond(exchange, 404, "text/plain", "not found".getBytes(StandardCharsets.UTF_8));
                }
            }
        });
        server.start();
        return server;
    }

    private static void respond(HttpExchange exchange, int status, String contentType, byte[] body) throws IOException {
        if (contentType != null) exchange.getResponseHeaders().set("Content-Type", contentType);
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        exchange.sendResponseHeaders(status, body == null ? -1 : body.length);
        if (body != null) exchange.getResponseBody().write(body);
    }

    // ---- Chromium ---------------------------------------------------------------------------------------------

    private static Optional<Path> findChromium() {
        Path debian = Path.of("/usr/bin/chromium");
        if (Files.isExecutable(debian)) return Optional.of(debian);
        String path = System.getenv("PATH");
        if (path == null) return Optional.empty();
        return Stream.of(path.split(File.pathSeparator))
                .filter(dir -> !dir.isEmpty())
                .map(dir -> Path.of(dir, "chromium"))
                .filter(Files::isExecutable)
                .findFirst();
    }

    private Process startChromium(Path chromium, Path profile, String url) throws IOException {
        List<String> command = List.of(
                chromium.toString(),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-default-apps",
                "--disable-extensions",
                "--disable-sync",
                "--disable-quic",
                "--no-first-run",
                "--no-default-browser-check",
                "--password-store=basic",
                // Belt and braces for "nothing leaves the machine": no host name resolves except localhost. (The
                // rule applies to IP literals too, hence the explicit exclusion of 127.0.0.1.)
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
                "--enable-logging=stderr",
                "--v=0",
                "--user-data-dir=" + profile,
                url);
        return new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(chromiumLog.toFile())
                .start();
    }

    private JsonNode awaitReport(CompletableFuture<JsonNode> report, Process browser) throws Exception {
        long deadline = System.nanoTime() + REPORT_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                return report.get(200, TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                if (!browser.isAlive()) {
                    fail("Chromium exited (status " + browser.exitValue() + ") before the page reported\n"
                            + diagnostics());
                }
            }
        }
        return fail("the page did not report within " + REPORT_TIMEOUT.toSeconds() + " s\n" + diagnostics());
    }

    /** Chromium and every process it started (zygote, renderers, GPU and network services). */
    private static void stop(Process browser) {
        List<ProcessHandle> all = new ArrayList<>(browser.descendants().toList());
        all.add(browser.toHandle());
        all.forEach(ProcessHandle::destroy);
        for (ProcessHandle process : all) {
            try {
                process.onExit().get(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                process.destroyForcibly();
            }
        }
    }

    private String diagnostics() {
        String requests = "requests to the page server: " + List.copyOf(pageRequests);
        try {
            List<String> lines = chromiumLog != null && Files.exists(chromiumLog)
                    ? new String(Files.readAllBytes(chromiumLog), StandardCharsets.UTF_8)
                            .lines()
                            .filter(line -> !line.contains("dbus") && !line.contains("D-Bus")) // container noise
                            .toList()
                    : List.of();
            return requests + "\nChromium output (last 60 lines, D-Bus noise left out):\n"
                    + String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
        } catch (IOException | UncheckedIOException e) {
            return requests + "\nChromium output unavailable: " + e;
        }
    }

    private static void deleteRecursively(Path dir) {
        if (!Files.exists(dir)) return;
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | UncheckedIOException e) {
            // a temp directory left behind is not a test failure
        }
    }
}
