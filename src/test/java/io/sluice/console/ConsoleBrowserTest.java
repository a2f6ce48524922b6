package io.sluice.console;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.segment.analytics.Analytics;
import com.segment.analytics.Callback;
import com.segment.analytics.messages.Message;
import com.segment.analytics.messages.TrackMessage;
import com.sun.net.httpserver.HttpServer;
import io.sluice.config.ConfigLoader;
import io.sluice.runtime.Sluice;
import io.sluice.support.Browser;
import io.sluice.support.Http;
import io.sluice.support.TestKafka;
import io.sluice.support.TestPostgres;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.openqa.selenium.By;
import org.openqa.selenium.Cookie;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;

/**
 * The operator console in real headless Chromium (Selenium + chromium-driver) against one real Sluice process (every
 * role; real Kafka, PostgreSQL and webhook receivers), with the official Segment Java SDK sending events. One
 * Sluice and one browser serve every step, in order: log in, watch the live debugger, see a refused request with
 * its rule, dead-letter and replay from the UI, pause and resume a sync, pause and resume the database. Each page
 * is saved as a screenshot under target/console-screenshots.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ConsoleBrowserTest {
    static final String TOKEN = "console-token-" + UUID.randomUUID();
    static final String WRITE_KEY = "wk_console";
    static final Duration UI = Duration.ofSeconds(15);

    static Path dir;
    static Sluice sluice;
    static Browser browser;
    static HttpServer receivers;
    /** messageId → requests, per receiver path. */
    static final Map<String, Map<String, AtomicInteger>> received = new ConcurrentHashMap<>();

    static volatile boolean hookFails;
    static String admin;

    @BeforeAll
    static void start() throws Exception {
        dir = Files.createTempDirectory("sluice-console-test");
        receivers = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        for (String path : List.of("/hook", "/archive")) {
            received.put(path, new ConcurrentHashMap<>());
            receivers.createContext(path, exchange -> {
                try (exchange) {
                    exchange.getRequestBody().readAllBytes();
                    boolean fail = path.equals("/hook") && hookFails;
                    if (!fail)
                        received.get(path)
                                .computeIfAbsent(
                                        exchange.getRequestHeaders().getFirst("Idempotency-Key"),
                                        k -> new AtomicInteger())
                                .incrementAndGet();
                    byte[] body =
                            (fail ? "{\"error\":\"unknown field 'plan'\"}" : "{}").getBytes(StandardCharsets.UTF_8);
                    exchange.sendResponseHeaders(fail ? 400 : 200, body.length);
                    exchange.getResponseBody().write(body);
                }
            });
        }
        receivers.start();
        String id = UUID.randomUUID().toString();
        String hooks = "http://127.0.0.1:" + receivers.getAddress().getPort();
        Path config = dir.resolve("sluice.yaml");
        Files.writeString(config, """
                kafka: {bootstrapServers: "%s", eventsTopic: console-%s, partitions: 2, controlTopic: console-control-%s, violationsTopic: console-violations-%s}
                postgres: {url: "%s", user: sluice}
                collector: {host: 127.0.0.1, port: 0}
                admin: {host: 127.0.0.1, port: 0, token: "%s"}
                sources: [{id: web, writeKey: %s}]
                destinations:
                  - {id: hook, type: webhook, url: "%s/hook", timeout: 2s, retry: {base: 100ms, cap: 200ms, maxAttempts: 2},
                     circuitBreaker: {window: 1000, minimumCalls: 1000, coolDown: 1s}}
                  - {id: archive, type: webhook, url: "%s/archive", timeout: 2s}
                syncs:
                  - {id: web-to-hook, source: web, destination: hook, batch: {maxEvents: 20, maxAge: 100ms}}
                  - {id: web-to-archive, source: web, destination: archive, batch: {maxEvents: 20, maxAge: 100ms}}
                planner: {groupId: console-%s}
                worker: {concurrency: 4, pollInterval: 50ms}
                functions: {timeout: 20s}
                """.formatted(
                        TestKafka.bootstrapServers(),
                        id,
                        id,
                        id,
                        TestPostgres.createDatabase("console"),
                        TOKEN,
                        WRITE_KEY,
                        hooks,
                        hooks,
                        id));
        sluice = new Sluice(
                new ConfigLoader(Map.of()).load(config), EnumSet.allOf(Sluice.Role.class), false, Clock.systemUTC());
        sluice.start();
        admin = sluice.adminUrl();
        browser = new Browser();
    }

    @AfterAll
    static void stop() {
        if (browser != null) browser.close();
        if (sluice != null) sluice.close();
        if (receivers != null) receivers.stop(0);
    }

    @Test
    @Order(1)
    void logInWithTheAdminTokenSetsAStrictHttpOnlySessionCookie() {
        open("/");
        await().atMost(UI)
                .until(() -> !driver().findElements(By.id("login-link")).isEmpty());
        assertThat(Http.post(admin + "/admin/syncs/web-to-hook/pause", "").statusCode())
                .as("actions need the token or a session")
                .isEqualTo(401);

        open("/login");
        find(By.id("token")).sendKeys("not-the-token");
        find(By.id("login-button")).click();
        await().atMost(UI)
                .until(() -> !driver().findElements(By.id("login-failed")).isEmpty());

        find(By.id("token")).sendKeys(TOKEN);
        browser.screenshot("login");
        find(By.id("login-button")).click();
        await().atMost(UI).until(() -> !driver().findElements(By.id("who")).isEmpty());
        Cookie cookie = driver().manage().getCookieNamed("sluice_console");
        assertThat(cookie).isNotNull();
        assertThat(cookie.isHttpOnly()).isTrue();
        assertThat(cookie.getSameSite()).isEqualTo("Strict");
        // The cookie alone is not enough for an action: it needs the session's CSRF token too (a forged request has
        // none).
        assertThat(Http.post(
                                admin + "/admin/syncs/web-to-hook/pause",
                                "",
                                "Cookie",
                                "sluice_console=" + cookie.getValue())
                        .statusCode())
                .isEqualTo(401);
    }

    @Test
    @Order(2)
    void eventsSentWithTheJavaSdkAppearInTheLiveDebuggerWithin3Seconds() {
        open("/sources/web");
        await().atMost(UI).until(() -> text(By.id("live-status")).startsWith("live"));
        List<String> ids = sendWithSdk("Console Checked", 3);
        long sent = System.nanoTime();
        await().atMost(Duration.ofSeconds(3))
                .until(() -> ids.stream().allMatch(id -> !items(id).isEmpty()));
        assertThat(Duration.ofNanos(System.nanoTime() - sent)).isLessThan(Duration.ofSeconds(3));
        WebElement first = items(ids.get(0)).get(0);
        assertThat(first.getText()).contains("track", "Console Checked", "sdk-user");
        first.click();
        String json = await().atMost(UI)
                .ignoreExceptions()
                .until(
                        () -> items(ids.get(0))
                                .get(0)
                                .findElement(By.tagName("pre"))
                                .getText(),
                        t -> !t.isEmpty());
        // the stored JSON, enriched by the collector, is shown to the logged-in operator
        assertThat(json).contains("\"receivedAt\"", "\"sourceId\": \"web\"", "analytics-java", "\"answer\": 42");
        browser.screenshot("source-debugger");
        await().atMost(UI)
                .until(() -> ids.stream()
                        .allMatch(id -> received.get("/hook").containsKey(id)
                                && received.get("/archive").containsKey(id)));
    }

    @Test
    @Order(3)
    void aRefusedRequestShowsItsRuleAndIndex() {
        open("/sources/web");
        await().atMost(UI).until(() -> text(By.id("live-status")).startsWith("live"));
        String good = "ok-" + UUID.randomUUID();
        var response = Http.post(
                sluice.collectorUrl() + "/v1/batch",
                """
                {"batch": [{"type": "track", "event": "Fine", "userId": "u1", "messageId": "%s"}, {"type": "track", "userId": "u1"}]}
                """.formatted(good),
                "Authorization",
                Http.basic(WRITE_KEY),
                "Content-Type",
                "application/json");
        assertThat(response.statusCode()).isEqualTo(400);
        await().atMost(UI)
                .until(() ->
                        driver().findElements(By.cssSelector(".item[data-kind=rejection][data-rule=missing_event]"))
                                        .size()
                                == 1);
        WebElement rejection = find(By.cssSelector(".item[data-kind=rejection][data-rule=missing_event]"));
        assertThat(rejection.getText()).contains("Rejected 400: missing_event", "event 1", "'event' is required");
        rejection.click();
        await().atMost(UI)
                .ignoreExceptions()
                .until(() -> text(By.cssSelector(".item[data-kind=rejection][data-rule=missing_event]"))
                        .contains("\"body\""));
        assertThat(items(good)).as("a refused batch stores nothing").isEmpty();
        browser.screenshot("source-rejection");
    }

    @Test
    @Order(4)
    void failingWebhookEventsDeadLetterAndAReplayFromTheUiDeliversThem() {
        hookFails = true;
        List<String> ids = sendWithSdk("Will Fail", 4);
        open("/dead-letters?sync=web-to-hook");
        await().atMost(UI)
                .pollInterval(Duration.ofSeconds(1))
                .conditionEvaluationListener(c -> {
                    if (c.getRemainingTimeInMS() < 1100) diagnose();
                })
                .until(() -> {
                    driver().navigate().refresh();
                    await().atMost(UI).until(() -> text(By.id("dl-count")).contains("dead letter"));
                    return ids.stream()
                            .allMatch(
                                    id -> !driver().findElements(By.cssSelector("tr.dl[data-message-id='" + id + "']"))
                                            .isEmpty());
                });
        WebElement row = find(By.cssSelector("tr.dl[data-message-id='" + ids.get(0) + "']"));
        assertThat(row.getText()).contains("web-to-hook", "HTTP 400", "400", "http_4xx");
        row.findElement(By.tagName("a")).click();
        browser.screenshot("dead-letters");
        assertThat(ids).noneMatch(id -> received.get("/hook").containsKey(id));

        hookFails = false;
        find(By.id("replay-all")).click();
        click(By.id("replay-confirm")); // a replay asks first
        await().atMost(UI)
                .until(() -> ids.stream().allMatch(id -> received.get("/hook").containsKey(id)));
        assertThat(ids).allMatch(id -> received.get("/hook").get(id).get() == 1);
        await().atMost(UI)
                .until(() -> driver().findElements(By.cssSelector("tr.dl")).isEmpty());

        open("/syncs/web-to-hook");
        await().atMost(UI)
                .ignoreExceptions()
                .until(() -> Long.parseLong(text(By.id("delivered-total")).replace(",", "")) >= 3 + 4);
        browser.screenshot("sync");
    }

    @Test
    @Order(5)
    void aPausedSyncKeepsPlanningButDeliversNothingUntilResumed() throws Exception {
        open("/syncs/web-to-hook");
        click(By.id("pause-sync"));
        await().atMost(UI).until(() -> text(By.id("sync-state")).equals("paused"));
        try (var c = DriverManager.getConnection(sluice.jdbcUrl(), "sluice", "");
                var rs = c.createStatement()
                        .executeQuery("SELECT paused_by FROM sync_pauses WHERE sync_id = 'web-to-hook'")) {
            assertThat(rs.next())
                    .as("the pause is stored in the queue database")
                    .isTrue();
            assertThat(rs.getString(1)).isEqualTo("console");
        }
        List<String> ids = sendWithSdk("While Paused", 3);
        // The other sync delivers them (workers are running) and this one's batches are planned, yet nothing arrives.
        await().atMost(UI)
                .until(() ->
                        ids.stream().allMatch(id -> received.get("/archive").containsKey(id)));
        await().atMost(UI).until(() -> pendingEvents("web-to-hook") >= 3);
        assertThat(ids).noneMatch(id -> received.get("/hook").containsKey(id));
        await().atMost(UI).until(() -> !text(By.tagName("main")).contains("0 pending"));
        browser.screenshot("sync-paused");

        click(By.id("resume-sync"));
        await().atMost(UI)
                .until(() -> ids.stream().allMatch(id -> received.get("/hook").containsKey(id)));
        await().atMost(UI).until(() -> !text(By.id("sync-state")).equals("paused"));
    }

    @Test
    @Order(6)
    void theDatabaseIsPausedAndResumedFromTheUi() {
        open("/database");
        await().atMost(UI).until(() -> text(By.id("gate-state")).equals("open"));
        click(By.id("db-pause"));
        click(By.id("db-confirm"));
        await().atMost(UI).until(() -> text(By.id("safe-to-fail-over")).equals("safe to fail over"));
        assertThat(sluice.guard().gate().paused()).isTrue();
        assertThat(find(By.id("processes")).getText()).contains("quiesced");
        browser.screenshot("database-paused");

        click(By.id("db-resume"));
        click(By.id("db-confirm"));
        await().atMost(UI).until(() -> text(By.id("gate-state")).equals("open"));
        assertThat(sluice.guard().gate().paused()).isFalse();
        List<String> ids = sendWithSdk("After Resume", 2);
        await().atMost(UI)
                .until(() -> ids.stream().allMatch(id -> received.get("/hook").containsKey(id)));
        browser.screenshot("database");
    }

    @Test
    @Order(7)
    void overviewAndFunctionPagesRender() {
        open("/");
        await().atMost(UI)
                .until(() -> !driver().findElements(By.cssSelector("tr[data-sync=web-to-hook]"))
                        .isEmpty());
        assertThat(text(By.cssSelector("tr[data-sync=web-to-hook]"))).contains("web → hook");
        browser.screenshot("overview");

        open("/functions");
        find(By.id("fn-run")).click();
        // a function's first run starts a GraalJS context (seconds on a busy CI machine): hence the generous timeout
        String output = await().atMost(Duration.ofSeconds(40))
                .until(() -> text(By.id("fn-output")), t -> t.contains("\"output\"") || t.contains("\"error\""));
        assertThat(output).contains("\"checked\": true").contains("\"error\": null");
        browser.screenshot("functions");
    }

    // ---- helpers ----------------------------------------------------------------------------------------------

    static ChromeDriver driver() {
        return browser.driver;
    }

    static void open(String path) {
        driver().get(admin + path);
    }

    /** The element once the page has rendered it (pages render from JSON after loading). */
    static WebElement find(By by) {
        return await().atMost(UI).ignoreExceptions().until(() -> driver().findElement(by), Objects::nonNull);
    }

    static String text(By by) {
        List<WebElement> found = driver().findElements(by);
        try {
            return found.isEmpty() ? "" : found.get(0).getText();
        } catch (StaleElementReferenceException e) {
            return "";
        }
    }

    /** Clicks once the element is there and enabled (pages re-render when their data changes). */
    static void click(By by) {
        await().atMost(UI).ignoreExceptions().until(() -> {
            WebElement element = driver().findElement(by);
            if (!element.isEnabled()) return false;
            element.click();
            return true;
        });
    }

    static List<WebElement> items(String messageId) {
        return driver().findElements(By.cssSelector(".item[data-kind=event][data-message-id='" + messageId + "']"));
    }

    static void diagnose() {
        try (var c = DriverManager.getConnection(sluice.jdbcUrl(), "sluice", "");
                var st = c.createStatement()) {
            for (String q : List.of(
                    "SELECT sync_id, status, attempts, last_error FROM batches WHERE status <> 'done'",
                    "SELECT sync_id, message_id, attempts, last_error FROM retry_events",
                    "SELECT sync_id, message_id, error, replayed_at::text FROM dead_letters")) {
                try (var rs = st.executeQuery(q)) {
                    while (rs.next())
                        System.out.println("DIAG " + rs.getString(1) + " " + rs.getString(2) + " " + rs.getString(3)
                                + " " + rs.getString(4));
                }
            }
            System.out.println("DIAG api "
                    + Http.get(admin + "/console/api/dead-letters?sync=web-to-hook")
                            .body());
            System.out.println(
                    "DIAG page " + driver().findElement(By.tagName("main")).getText());
        } catch (Exception e) {
            System.out.println("DIAG failed " + e);
        }
    }

    static long pendingEvents(String sync) throws Exception {
        try (var c = DriverManager.getConnection(sluice.jdbcUrl(), "sluice", "");
                var ps = c.prepareStatement(
                        "SELECT coalesce(sum(event_count), 0) FROM batches WHERE sync_id = ? AND status = 'pending'")) {
            ps.setString(1, sync);
            try (var rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /** Sends track events with the official SDK and waits until the collector acknowledged each one. */
    static List<String> sendWithSdk(String event, int count) {
        ConcurrentLinkedQueue<Message> delivered = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        Analytics analytics = Analytics.builder(WRITE_KEY)
                .endpoint(sluice.collectorUrl())
                .flushInterval(1, TimeUnit.SECONDS)
                .callback(new Callback() {
                    @Override
                    public void success(Message message) {
                        delivered.add(message);
                    }

                    @Override
                    public void failure(Message message, Throwable error) {
                        failures.add(error);
                    }
                })
                .build();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            String id = "console-" + UUID.randomUUID();
            ids.add(id);
            analytics.enqueue(TrackMessage.builder(event)
                    .userId("sdk-user")
                    .messageId(id)
                    .properties(Map.of("answer", 42, "n", i)));
        }
        analytics.flush();
        await().atMost(UI).until(() -> delivered.size() + failures.size() >= count);
        analytics.shutdown();
        assertThat(failures).isEmpty();
        assertThat(Set.copyOf(delivered.stream().map(Message::messageId).toList()))
                .containsExactlyInAnyOrderElementsOf(ids);
        return ids;
    }
}
