package io.sluice.console;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

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
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.openqa.selenium.By;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;

/**
 * Delivery accounting and Failed events in real headless Chromium against one real Sluice (every role; real Kafka,
 * PostgreSQL, a counting webhook receiver and a PostgreSQL warehouse). One source with a contract that blocks
 * unplanned events feeds two syncs: one to the webhook through a function that drops some events (the receiver
 * refuses others with a 400 whose body must stay private), one to the warehouse with a filter. The accounting page
 * must add up exactly against what the test sent, what the receiver counted (it dedupes nothing) and the
 * warehouse's rows; then the failed events are replayed from their group, failing again and then delivered. Also
 * bugs 3 and 7 of issue 25. Screenshots under target/console-screenshots.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ConsoleAccountingBrowserTest {
    static final String TOKEN = "acct-token-" + UUID.randomUUID();
    static final String WRITE_KEY = "wk_acct";
    static final String SECRET = "secret-detail-" + UUID.randomUUID();
    static final Duration UI = Duration.ofSeconds(30);

    static final int PLAIN = 10, DROPPED = 3, NOISE = 4, REJECTED = 2, UNPLANNED = 5;

    static Path dir;
    static Sluice sluice;
    static Browser browser;
    static HttpServer receiver;
    static String admin;
    static String warehouseUrl;
    static String cookie;
    /** Idempotency-Key (messageId) → requests answered 2xx, and → requests refused. */
    static final Map<String, AtomicInteger> accepted = new ConcurrentHashMap<>();

    static final Map<String, AtomicInteger> refused = new ConcurrentHashMap<>();
    static volatile boolean refuseRejected = true;

    @BeforeAll
    static void start() throws Exception {
        dir = Files.createTempDirectory("sluice-acct-test");
        receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        receiver.createContext("/hook", exchange -> {
            try (exchange) {
                exchange.getRequestBody().readAllBytes();
                String key = exchange.getRequestHeaders().getFirst("Idempotency-Key");
                boolean refuse = refuseRejected && key.startsWith("reject-");
                (refuse ? refused : accepted)
                        .computeIfAbsent(key, k -> new AtomicInteger())
                        .incrementAndGet();
                byte[] body = (refuse ? "{\"error\":\"" + SECRET + "\"}" : "{}").getBytes(StandardCharsets.UTF_8);
                exchange.sendResponseHeaders(refuse ? 400 : 200, body.length);
                exchange.getResponseBody().write(body);
            }
        });
        receiver.start();
        String id = UUID.randomUUID().toString();
        warehouseUrl = TestPostgres.createDatabase("acct_warehouse");
        Files.writeString(dir.resolve("sluice.yaml"), """
                kafka: {bootstrapServers: "%s", eventsTopic: acct-%s, partitions: 2, controlTopic: acct-control-%s, violationsTopic: acct-violations-%s}
                postgres: {url: "%s", user: sluice}
                collector: {host: 127.0.0.1, port: 0}
                admin: {host: 127.0.0.1, port: 0, token: "%s"}
                sources:
                  - id: web
                    writeKey: %s
                    contract:
                      unplannedEvents: block
                      events: {"Order Completed": {}, "Noise": {}, "Rejected": {}}
                destinations:
                  - {id: hook, type: webhook, url: "http://127.0.0.1:%d/hook", timeout: 30s, retry: {base: 100ms, cap: 200ms, maxAttempts: 2}}
                  - {id: warehouse, type: postgres, url: "%s", user: sluice}
                syncs:
                  - id: to-hook
                    source: web
                    destination: hook
                    batch: {maxEvents: 20, maxAge: 100ms}
                    function: "function transform(event) { return event.properties.drop ? null : event; }"
                  - {id: to-warehouse, source: web, destination: warehouse, batch: {maxEvents: 20, maxAge: 100ms},
                     filter: {events: ["Order Completed", "Rejected"]}}
                planner: {groupId: acct-%s}
                worker: {concurrency: 2, pollInterval: 50ms, leaseDuration: 6s, heartbeatInterval: 1s}
                functions: {timeout: 20s}
                """.formatted(
                        TestKafka.bootstrapServers(),
                        id,
                        id,
                        id,
                        TestPostgres.createDatabase("acct"),
                        TOKEN,
                        WRITE_KEY,
                        receiver.getAddress().getPort(),
                        warehouseUrl,
                        id));
        sluice = new Sluice(
                new ConfigLoader(Map.of()).load(dir.resolve("sluice.yaml")),
                EnumSet.allOf(Sluice.Role.class),
                false,
                Clock.systemUTC());
        sluice.start();
        admin = sluice.adminUrl();
        browser = new Browser();
        logIn();
        send();
    }

    @AfterAll
    static void stop() {
        if (browser != null) browser.close();
        if (sluice != null) sluice.close();
        if (receiver != null) receiver.stop(0);
    }

    static void logIn() {
        open("/login");
        find(By.id("token")).sendKeys(TOKEN);
        find(By.id("login-button")).click();
        await().atMost(UI).until(() -> !driver().findElements(By.id("who")).isEmpty());
        cookie = "sluice_console="
                + driver().manage().getCookieNamed("sluice_console").getValue();
    }

    /** Every kind of event, in one batch request (the collector answers 200 also for the blocked ones). */
    static void send() {
        List<String> events = new ArrayList<>();
        for (int i = 0; i < PLAIN; i++) events.add(track("plain-" + i, "Order Completed", "{}"));
        for (int i = 0; i < DROPPED; i++) events.add(track("drop-" + i, "Order Completed", "{\"drop\":true}"));
        for (int i = 0; i < NOISE; i++) events.add(track("noise-" + i, "Noise", "{}"));
        for (int i = 0; i < REJECTED; i++) events.add(track("reject-" + i, "Rejected", "{}"));
        for (int i = 0; i < UNPLANNED; i++) events.add(track("unplanned-" + i, "Unplanned Thing", "{}"));
        var response = Http.post(
                sluice.collectorUrl() + "/v1/batch",
                "{\"batch\":[" + String.join(",", events) + "]}",
                "Authorization",
                Http.basic(WRITE_KEY),
                "Content-Type",
                "application/json");
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    }

    static String track(String messageId, String name, String properties) {
        return "{\"type\":\"track\",\"event\":\"" + name + "\",\"userId\":\"u-" + messageId + "\",\"messageId\":\""
                + messageId + "\",\"properties\":" + properties + "}";
    }

    @Test
    @Order(1)
    void aDeadLetterFilterThatDoesNotParseIsA400NamingItAndThePageSaysSo() {
        for (String query : List.of("since=yesterday", "limit=abc", "limit=0")) {
            var response = Http.get(admin + "/console/api/dead-letters?" + query);
            assertThat(response.statusCode()).as(query).isEqualTo(400);
            assertThat(response.body()).contains(query.substring(0, query.indexOf('=')));
        }
        assertThat(Http.get(admin + "/console/api/dead-letters/groups?since=yesterday")
                        .statusCode())
                .isEqualTo(400);
        open("/dead-letters?since=yesterday");
        await().atMost(UI).until(() -> text(By.id("dl-error")).contains("'since' must be"));
        assertThat(driver().findElements(By.cssSelector("tr.dl")))
                .as("no stale list")
                .isEmpty();
    }

    @Test
    @Order(2)
    void theAccountingAddsUpExactlyAgainstTheReceiverAndTheWarehouse() throws Exception {
        int received = PLAIN + DROPPED + NOISE + REJECTED + UNPLANNED;
        open("/syncs/to-hook/accounting");
        awaitSettled(received, 0);
        browser.screenshot("accounting");
        Map<String, Long> hook = accounting();
        long deliveredAtReceiver =
                accepted.values().stream().mapToLong(AtomicInteger::get).sum();
        assertThat(accepted)
                .as("each event once at the receiver")
                .allSatisfy((k, n) -> assertThat(n.get()).isEqualTo(1));
        assertThat(hook.get("received")).isEqualTo(received);
        assertThat(hook.get("delivered")).isEqualTo(deliveredAtReceiver).isEqualTo(PLAIN + NOISE);
        assertThat(hook.get("functionDropped")).isEqualTo(DROPPED);
        assertThat(hook.get("filtered")).isZero();
        assertThat(hook.get("blocked")).isEqualTo(UNPLANNED);
        assertThat(hook.get("discarded")).isZero();
        assertThat(hook.get("deadLettered"))
                .isEqualTo(count("SELECT count(*) FROM dead_letters WHERE sync_id = 'to-hook'", sluice.jdbcUrl()))
                .isEqualTo(refused.size())
                .isEqualTo(REJECTED);
        assertThat(hook.get("pending")).isZero();
        assertThat(hook.get("inTransit")).isZero();
        assertThat(hook.get("delivered")
                        + hook.get("functionDropped")
                        + hook.get("filtered")
                        + hook.get("blocked")
                        + hook.get("discarded")
                        + hook.get("deadLettered")
                        + hook.get("pending"))
                .isEqualTo(hook.get("received"));
        assertThat(text(By.id("acct-failures"))).contains(REJECTED + " failed", REJECTED + " 4xx", "0 5xx");
        assertThat(text(By.id("acct-latency"))).startsWith("≤");

        open("/syncs/to-warehouse/accounting");
        awaitSettled(received, 0);
        Map<String, Long> warehouse = accounting();
        long rows = count("SELECT count(*) FROM web.tracks", warehouseUrl);
        assertThat(warehouse.get("received")).isEqualTo(received);
        assertThat(warehouse.get("delivered")).isEqualTo(rows).isEqualTo(PLAIN + DROPPED + REJECTED);
        assertThat(warehouse.get("filtered")).isEqualTo(NOISE);
        assertThat(warehouse.get("blocked")).isEqualTo(UNPLANNED);
        assertThat(warehouse.get("functionDropped")).isZero();
        assertThat(warehouse.get("deadLettered")).isZero();
        assertThat(warehouse.get("pending")).isZero();
        assertThat(warehouse.get("delivered") + warehouse.get("filtered") + warehouse.get("blocked"))
                .isEqualTo(warehouse.get("received"));
        click(By.cssSelector("#acct-range button[data-range='7d']"));
        await().atMost(UI).until(() -> driver().getCurrentUrl().endsWith("range=7d"));
        awaitSettled(received, 0);
    }

    @Test
    @Order(3)
    void deadLetterErrorTextsAreHiddenFromViewersWhoMayNotSeePayloads() {
        for (String path : List.of(
                "/console/api/dead-letters?sync=to-hook",
                "/console/api/dead-letters/groups?sync=to-hook",
                "/console/api/syncs/to-hook",
                "/console/api/overview")) {
            String anonymous = Http.get(admin + path).body();
            assertThat(anonymous).as(path).doesNotContain(SECRET);
            String operator =
                    Http.request("GET", admin + path, "Cookie", cookie).body();
            if (path.contains("dead-letters")) assertThat(operator).as(path).contains(SECRET);
        }
        assertThat(Http.get(admin + "/console/api/dead-letters?sync=to-hook").body())
                .contains("HTTP 400", "details hidden");
    }

    @Test
    @Order(4)
    void failedEventsAreGroupedByErrorAndReplayedWithConfirmationProgressAndOutcome() throws Exception {
        open("/dead-letters?sync=to-hook");
        By group = By.cssSelector("tr.dl-group[data-sync='to-hook'][data-status='400']");
        await().atMost(UI).until(() -> text(group).contains(String.valueOf(REJECTED)));
        find(group).findElement(By.tagName("a")).click();
        await().atMost(UI).until(() -> text(By.cssSelector("tr.dl-sample")).contains(SECRET));
        assertThat(text(By.cssSelector("tr.dl-sample"))).contains("\"messageId\": \"reject-");
        browser.screenshot("failed-events");

        // still refused: the replay's outcome says they failed again
        find(group).findElement(By.cssSelector("button.replay-group")).click();
        await().atMost(UI).until(() -> text(By.id("replay-confirm-box")).contains("Replay " + REJECTED + " events"));
        assertThat(refused.values().stream().mapToInt(AtomicInteger::get).sum())
                .as("nothing replayed before the confirmation")
                .isEqualTo(REJECTED);
        click(By.id("replay-confirm"));
        await().atMost(UI)
                .until(() -> "true".equals(attribute(By.id("replay-result"), "data-done"))
                        && text(By.id("replay-failed")).startsWith(REJECTED + " failed again"));
        assertThat(text(By.id("replay-progress"))).contains("Rerun " + REJECTED);
        assertThat(text(By.id("replay-delivered"))).startsWith("0 delivered");
        browser.screenshot("failed-events-replayed");

        // fixed: delivered, once each, and the accounting still adds up (replays counted in)
        refuseRejected = false;
        open("/dead-letters?sync=to-hook");
        find(group).findElement(By.cssSelector("button.replay-group")).click();
        click(By.id("replay-confirm"));
        await().atMost(UI)
                .until(() -> "true".equals(attribute(By.id("replay-result"), "data-done"))
                        && text(By.id("replay-delivered")).startsWith(REJECTED + " delivered"));
        assertThat(text(By.id("replay-failed"))).startsWith("0 failed again");
        assertThat(accepted.keySet().stream().filter(k -> k.startsWith("reject-")))
                .hasSize(REJECTED);
        assertThat(accepted).allSatisfy((k, n) -> assertThat(n.get()).isEqualTo(1));

        int received = PLAIN + DROPPED + NOISE + REJECTED + UNPLANNED;
        open("/syncs/to-hook/accounting");
        awaitSettled(received, 2 * REJECTED);
        Map<String, Long> hook = accounting();
        assertThat(hook.get("delivered"))
                .isEqualTo(
                        accepted.values().stream().mapToLong(AtomicInteger::get).sum());
        assertThat(hook.get("deadLettered")).as("each failure counted").isEqualTo(2 * REJECTED);
        assertThat(hook.get("delivered")
                        + hook.get("functionDropped")
                        + hook.get("blocked")
                        + hook.get("deadLettered")
                        + hook.get("pending"))
                .isEqualTo(hook.get("received") + hook.get("replayed"));
    }

    @Test
    @Order(5)
    void theFunctionsPageShowsInvocationsErrorsDropsTimeoutsAndReloadsPerSync() {
        open("/functions");
        By row = By.cssSelector("#fn-stats-table tr[data-sync='to-hook']");
        await().atMost(UI).until(() -> !text(row).isEmpty());
        List<String> cells = find(row).findElements(By.tagName("td")).stream()
                .map(WebElement::getText)
                .toList();
        assertThat(cells.get(0)).isEqualTo("to-hook");
        assertThat(Long.parseLong(cells.get(1).replace(",", "")))
                .as("invocations")
                .isEqualTo(PLAIN + DROPPED + NOISE + REJECTED);
        assertThat(cells.subList(2, 7)).containsExactly("0", String.valueOf(DROPPED), "0", "0", "0");
        browser.screenshot("functions-stats");
    }

    /** Waits until the page shows every received event settled: nothing pending or in transit. */
    static void awaitSettled(long received, long replayed) {
        await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> {
            Map<String, Long> a = accounting();
            return a.get("received") == received
                    && a.get("replayed") == replayed
                    && a.get("pending") == 0
                    && a.get("inTransit") == 0;
        });
    }

    /** The accounting page's numbers, as shown. */
    static Map<String, Long> accounting() {
        Map<String, Long> out = new java.util.HashMap<>();
        for (String term : List.of(
                "received",
                "replayed",
                "delivered",
                "functionDropped",
                "filtered",
                "blocked",
                "discarded",
                "deadLettered",
                "pending",
                "inTransit")) {
            String shown = term.equals("replayed") ? null : text(By.id("acct-" + term));
            out.put(term, shown == null ? replayedShown() : Long.parseLong(shown.replace(",", "")));
        }
        return out;
    }

    /** "Received (+ N replayed)" in the table's first row, else 0. */
    static long replayedShown() {
        String label = text(By.cssSelector("#acct-table tr[data-term='received'] td"));
        int plus = label.indexOf("(+ ");
        return plus < 0
                ? 0
                : Long.parseLong(
                        label.substring(plus + 3, label.indexOf(' ', plus + 3)).replace(",", ""));
    }

    static long count(String sql, String url) throws Exception {
        try (var c = DriverManager.getConnection(url, "sluice", "");
                var rs = c.createStatement().executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    static ChromeDriver driver() {
        return browser.driver;
    }

    static void open(String path) {
        driver().get(admin + path);
    }

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

    static String attribute(By by, String name) {
        List<WebElement> found = driver().findElements(by);
        try {
            return found.isEmpty() ? null : found.get(0).getAttribute(name);
        } catch (StaleElementReferenceException e) {
            return null;
        }
    }

    static void click(By by) {
        await().atMost(UI).ignoreExceptions().until(() -> {
            WebElement element = driver().findElement(by);
            if (!element.isEnabled()) return false;
            element.click();
            return true;
        });
    }
}
