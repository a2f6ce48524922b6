package io.sluice.console;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import io.sluice.config.ConfigLoader;
import io.sluice.config.SluiceConfig;
import io.sluice.runtime.Sluice;
import io.sluice.support.BrokerCluster;
import io.sluice.support.Browser;
import io.sluice.support.Http;
import io.sluice.support.TestPostgres;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;

/**
 * Issue 25's "truth first": each outage is visible on the overview within 10 s, and so is its end. One Sluice (fixed
 * ports, so that it can be stopped and started again), one webhook receiver, events sent all along, one browser on
 * the overview page. Kinds driven here: database writes paused, webhook down, server gone, Kafka down (its own
 * one-broker cluster, killed and restarted); and the phone layout.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ConsoleOutageBrowserTest {
    static final Duration VISIBLE = Duration.ofSeconds(10);
    static final String TOKEN = "outage-token-" + UUID.randomUUID();
    static final String WRITE_KEY = "wk_outage";

    static BrokerCluster kafka;
    static SluiceConfig config;
    static Sluice sluice;
    static Browser browser;
    static HttpServer receiver;
    static volatile int hookStatus = 200;
    static final AtomicInteger delivered = new AtomicInteger();
    static final HttpClient HTTP = HttpClient.newHttpClient();
    static final AtomicInteger sent = new AtomicInteger();
    static final ScheduledExecutorService sender = Executors.newSingleThreadScheduledExecutor();
    static String admin;

    @BeforeAll
    static void start() throws Exception {
        kafka = BrokerCluster.start(Files.createTempDirectory("sluice-outage-kafka"), 1);
        receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        receiver.createContext("/hook", exchange -> {
            try (exchange) {
                exchange.getRequestBody().readAllBytes();
                int status = hookStatus;
                if (status == 200) delivered.incrementAndGet();
                byte[] body = "{}".getBytes(StandardCharsets.UTF_8);
                exchange.sendResponseHeaders(status, body.length);
                exchange.getResponseBody().write(body);
            }
        });
        receiver.start();
        String id = UUID.randomUUID().toString();
        Path config = Files.createTempDirectory("sluice-outage").resolve("sluice.yaml");
        Files.writeString(config, """
                kafka: {bootstrapServers: "%s", eventsTopic: outage-%s, partitions: 2, controlTopic: outage-control-%s, violationsTopic: outage-violations-%s}
                postgres: {url: "%s", user: sluice, writeHold: 1s}
                collector: {host: 127.0.0.1, port: %d}
                admin: {host: 127.0.0.1, port: %d, token: "%s"}
                sources: [{id: web, writeKey: %s}]
                destinations:
                  - {id: hook, type: webhook, url: "http://127.0.0.1:%d/hook", timeout: 2s, retry: {base: 200ms, cap: 500ms, maxAttempts: 1000},
                     circuitBreaker: {window: 1000, minimumCalls: 1000, coolDown: 1s}}
                syncs:
                  - {id: web-to-hook, source: web, destination: hook, batch: {maxEvents: 20, maxAge: 100ms}}
                planner: {groupId: outage-%s}
                worker: {concurrency: 2, pollInterval: 50ms}
                """.formatted(
                        kafka.bootstrapServers(),
                        id,
                        id,
                        id,
                        TestPostgres.createDatabase("outage"),
                        freePort(),
                        freePort(),
                        TOKEN,
                        WRITE_KEY,
                        receiver.getAddress().getPort(),
                        id));
        ConsoleOutageBrowserTest.config = new ConfigLoader(Map.of()).load(config);
        sluice = startSluice();
        admin = sluice.adminUrl();
        sender.scheduleAtFixedRate(ConsoleOutageBrowserTest::sendOne, 0, 200, TimeUnit.MILLISECONDS);
        browser = new Browser();
        browser.driver.get(admin + "/");
        await().atMost(Duration.ofSeconds(30)).until(() -> !rows("web-to-hook").isEmpty());
        await().atMost(Duration.ofSeconds(30)).until(() -> delivered.get() > 0);
    }

    @AfterAll
    static void stop() {
        sender.shutdownNow();
        if (browser != null) browser.close();
        if (sluice != null) sluice.close();
        if (receiver != null) receiver.stop(0);
        if (kafka != null) kafka.close();
    }

    @Test
    @Order(1)
    void databaseWritesPausedShowAndTheirEndToo() {
        await().atMost(VISIBLE).until(() -> problemTexts("database").isEmpty());
        assertThat(Http.post(admin + "/admin/db/pause", "", "Authorization", "Bearer " + TOKEN)
                        .statusCode())
                .isEqualTo(202);
        await().atMost(VISIBLE).until(() -> !problemTexts("database").isEmpty());
        assertThat(problemTexts("database").get(0)).contains("outage", "Database writes paused");
        await().atMost(VISIBLE).until(() -> "held".equals(state("web-to-hook")));
        browser.screenshot("overview-database-paused");

        assertThat(Http.post(admin + "/admin/db/resume", "", "Authorization", "Bearer " + TOKEN)
                        .statusCode())
                .isEqualTo(202);
        await().atMost(VISIBLE).until(() -> problemTexts("database").isEmpty());
        await().atMost(VISIBLE).until(() -> !"held".equals(state("web-to-hook")));
    }

    @Test
    @Order(2)
    void aWebhookOutageIsFailingNotRetryingAndItsEndShows() {
        hookStatus = 500;
        await().atMost(VISIBLE).until(() -> "failing".equals(state("web-to-hook")));
        assertThat(problemTexts("failing")).isNotEmpty();
        assertThat(problemTexts("failing").get(0)).contains("outage", "web-to-hook", "failing");
        browser.screenshot("overview-webhook-down");

        hookStatus = 200;
        int before = delivered.get();
        await().atMost(VISIBLE).until(() -> !"failing".equals(state("web-to-hook")));
        assertThat(problemTexts("failing")).isEmpty();
        assertThat(delivered.get()).isGreaterThan(before);
    }

    @Test
    @Order(3)
    void aServerThatIsGoneIsShownAsDisconnectedNotAsCurrentAndItsReturnToo() {
        await().atMost(VISIBLE)
                .until(() -> !browser.driver.findElement(By.id("conn")).isDisplayed());
        sluice.close();
        await().atMost(VISIBLE)
                .until(() -> browser.driver.findElement(By.id("conn")).isDisplayed());
        assertThat(browser.driver.findElement(By.id("conn")).getText()).contains("Disconnected since", "not current");
        assertThat(browser.driver.findElement(By.tagName("body")).getAttribute("class"))
                .contains("stale");
        browser.screenshot("overview-disconnected");

        sluice = startSluice();
        await().atMost(VISIBLE)
                .until(() -> !browser.driver.findElement(By.id("conn")).isDisplayed());
        assertThat(browser.driver.findElement(By.tagName("body")).getAttribute("class"))
                .doesNotContain("stale");
    }

    @Test
    @Order(4)
    void onAPhoneTheSyncTableKeepsItsKeyColumnsInView() {
        browser.driver.manage().window().setSize(new org.openqa.selenium.Dimension(390, 844));
        try {
            browser.driver.get(admin + "/");
            await().atMost(VISIBLE).until(() -> !rows("web-to-hook").isEmpty());
            // read in the page in one go: rows are replaced when the data changes
            @SuppressWarnings("unchecked")
            Map<String, Object> layout = (Map<String, Object>) browser.driver.executeScript("""
                    const row = document.querySelector("tr[data-sync='web-to-hook']");
                    const cells = row.querySelectorAll('td');
                    const shown = el => el.getClientRects().length > 0 && getComputedStyle(el).display !== 'none';
                    return { width: window.innerWidth, syncShown: shown(cells[0]), stateShown: shown(cells[1]),
                             stateRight: cells[1].getBoundingClientRect().right,
                             optionalShown: [...row.querySelectorAll('td.opt')].filter(shown).length };""");
            assertThat(layout.get("syncShown")).isEqualTo(true);
            assertThat(layout.get("stateShown")).isEqualTo(true);
            assertThat(((Number) layout.get("stateRight")).doubleValue())
                    .as("the sync and its state fit the phone's width")
                    .isLessThanOrEqualTo(((Number) layout.get("width")).doubleValue());
            assertThat(((Number) layout.get("optionalShown")).intValue())
                    .as("optional columns are left out")
                    .isZero();
            browser.driver.executeScript(
                    "document.querySelector(\"tr[data-sync='web-to-hook']\").scrollIntoView({block: 'center'})");
            browser.screenshot("overview-phone");
        } finally {
            browser.driver.manage().window().setSize(new org.openqa.selenium.Dimension(1280, 900));
        }
    }

    @Test
    @Order(5)
    void kafkaDownShowsAndItsReturnToo() throws Exception {
        browser.driver.get(admin + "/");
        await().atMost(VISIBLE)
                .until(() ->
                        !rows("web-to-hook").isEmpty() && problemTexts("kafka").isEmpty());
        kafka.kill(1);
        await().atMost(VISIBLE).until(() -> !problemTexts("kafka").isEmpty());
        assertThat(problemTexts("kafka").get(0)).contains("outage", "Kafka unavailable");
        browser.screenshot("overview-kafka-down");

        kafka.restart(1);
        kafka.awaitBrokers(1, Duration.ofSeconds(120));
        await().atMost(VISIBLE).until(() -> problemTexts("kafka").isEmpty());
    }

    // ---- helpers ----------------------------------------------------------------------------------------------

    static Sluice startSluice() {
        Sluice s = new Sluice(config, EnumSet.allOf(Sluice.Role.class), false, Clock.systemUTC());
        s.start();
        return s;
    }

    /** The sync's state on the page now, read in the page (rows are replaced when the data changes). */
    static String state(String sync) {
        return (String) browser.driver.executeScript(
                "const r = document.querySelector(\"tr[data-sync='\" + arguments[0] + \"']\");"
                        + " return r ? r.dataset.state : null;",
                sync);
    }

    /** The texts of the problems of a kind on the page now. */
    @SuppressWarnings("unchecked")
    static List<String> problemTexts(String kind) {
        return (List<String>) browser.driver.executeScript(
                "return [...document.querySelectorAll(\"#problems li[data-kind='\" + arguments[0] + \"']\")]"
                        + ".map(li => li.textContent);",
                kind);
    }

    static List<WebElement> rows(String sync) {
        return browser.driver.findElements(By.cssSelector("tr[data-sync='" + sync + "']"));
    }

    /** One event every 200 ms, as a live site sends them; refusals while Sluice is down are ignored. */
    static void sendOne() {
        try {
            HTTP.send(
                    HttpRequest.newBuilder(URI.create(
                                    "http://127.0.0.1:" + config.collector().port() + "/v1/track"))
                            .header("Authorization", Http.basic(WRITE_KEY))
                            .header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString(
                                    "{\"type\":\"track\",\"event\":\"Tick\",\"userId\":\"u"
                                            + (sent.getAndIncrement() % 7) + "\"}"))
                            .timeout(Duration.ofSeconds(5))
                            .build(),
                    java.net.http.HttpResponse.BodyHandlers.discarding());
        } catch (Exception e) {
            // Sluice is down: the next one is tried
        }
    }

    static int freePort() throws Exception {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
