package io.sluice.console;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.config.ConfigLoader;
import io.sluice.runtime.Sluice;
import io.sluice.support.Browser;
import io.sluice.support.TestKafka;
import io.sluice.support.TestPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.WebElement;

/**
 * Issue 25's bug 8, the small ones, in Chromium against a real Sluice (an admin token, one sync with a function): the
 * Writer card fits at 1366 px, latencies over a minute read in minutes, the Functions page without a login never
 * shows the sample code as the sync's, and "N s ago" labels keep counting while the page is stale. (The start
 * banner naming the console URL is checked by SluiceStartIT on the real {@code sluice start}.)
 */
class ConsoleSmallFixesBrowserTest {
    static final Duration UI = Duration.ofSeconds(15);
    static final String FUNCTION = "function transform(event) { event.properties.mine = 1; return event; }";

    static Sluice sluice;
    static Browser browser;
    static String admin;

    @BeforeAll
    static void start() throws Exception {
        String id = UUID.randomUUID().toString();
        Path config = Files.createTempDirectory("sluice-small-fixes").resolve("sluice.yaml");
        Files.writeString(config, """
                kafka: {bootstrapServers: "%s", eventsTopic: small-%s, partitions: 1, controlTopic: small-control-%s, violationsTopic: small-violations-%s}
                postgres: {url: "%s", user: sluice}
                collector: {host: 127.0.0.1, port: 0}
                admin: {host: 127.0.0.1, port: 0, token: "small-token-%s"}
                sources: [{id: web, writeKey: wk_small}]
                destinations:
                  - {id: hook, type: webhook, url: "http://127.0.0.1:1/unused"}
                syncs:
                  - {id: web-fn, source: web, destination: hook, function: "%s"}
                planner: {groupId: small-%s}
                """.formatted(
                TestKafka.bootstrapServers(), id, id, id, TestPostgres.createDatabase("small"), id, FUNCTION, id));
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
    }

    @Test
    void theWriterCardsTextFitsOnA1366PxScreen() {
        browser.driver.manage().window().setSize(new Dimension(1366, 768));
        try {
            browser.driver.get(admin + "/database");
            await().atMost(UI)
                    .ignoreExceptions()
                    .until(() -> !browser.driver
                            .findElement(By.id("writer"))
                            .getText()
                            .equals("–"));
            @SuppressWarnings("unchecked")
            List<Map<String, Object>> overflowing = (List<Map<String, Object>>) browser.driver.executeScript("""
                    const card = document.getElementById('writer').closest('.card');
                    return [card, ...card.querySelectorAll('*')]
                      .filter(el => el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).display !== 'inline')
                      .map(el => ({ tag: el.tagName, text: el.textContent, scroll: el.scrollWidth, client: el.clientWidth }))
                      .concat(card.getBoundingClientRect().right > window.innerWidth ? [{ tag: 'card', text: 'past the window' }] : []);""");
            assertThat(overflowing)
                    .as("elements of the Writer card wider than their box")
                    .isEmpty();
            assertThat(browser.driver.findElement(By.id("writer")).getText()).isNotBlank();
        } finally {
            browser.driver.manage().window().setSize(new Dimension(1280, 900));
        }
    }

    @Test
    void latenciesOverAMinuteReadInMinutesNotInThousandsOfMilliseconds() {
        browser.driver.get(admin + "/");
        await().atMost(UI)
                .until(() -> !browser.driver.findElements(By.id("problems")).isEmpty());
        // the page's own formatter, the one every latency on the console goes through
        assertThat(browser.driver.executeScript("return duration(91626)")).isEqualTo("1 min 32 s");
        assertThat(browser.driver.executeScript("return duration(4200)")).isEqualTo("4.2 s");
        assertThat(browser.driver.executeScript("return duration(850)")).isEqualTo("850 ms");
        assertThat(browser.driver.executeScript("return chartCard('p99', [[Date.now(), 91626]], 'ms').textContent"))
                .asString()
                .contains("1 min 32 s")
                .doesNotContain("91,626");
    }

    @Test
    void withoutALoginPickingASyncOnFunctionsNeverShowsTheSampleAsItsCode() {
        browser.driver.manage().deleteAllCookies();
        browser.driver.get(admin + "/functions");
        WebElement pick = await().atMost(UI)
                .ignoreExceptions()
                .until(() -> browser.driver.findElement(By.id("fn-sync")), e -> e != null);
        String sample = browser.driver.findElement(By.id("fn-code")).getAttribute("value");
        assertThat(sample).as("the sample is there before a sync is picked").contains("checked: true");
        new org.openqa.selenium.support.ui.Select(pick).selectByValue("web-fn");
        WebElement code = browser.driver.findElement(By.id("fn-code"));
        assertThat(code.getAttribute("value"))
                .as("not the sample, not the sync's code")
                .isEmpty();
        assertThat(code.getAttribute("placeholder")).contains("web-fn", "hidden", "log in");
        assertThat(browser.driver.findElement(By.tagName("main")).getText()).doesNotContain("event.properties.mine");
    }

    @Test
    void agoLabelsKeepCountingWhileThePageIsStale() {
        browser.driver.get(admin + "/");
        await().atMost(UI)
                .until(() -> !browser.driver.findElements(By.id("problems")).isEmpty());
        // a label as the pages make them, five seconds old, on a page marked stale (no poll updates it any more)
        browser.driver.executeScript("""
                for (const t of timers) clearInterval(t);
                document.body.classList.add('stale');
                const label = ago(new Date(Date.now() - 5000).toISOString());
                label.id = 'test-ago';
                document.body.append(label);""");
        String first = browser.driver.findElement(By.id("test-ago")).getText();
        assertThat(first).matches("[56] s ago");
        int seconds = Integer.parseInt(first.split(" ")[0]);
        await().atMost(Duration.ofSeconds(5))
                .until(
                        () -> browser.driver.findElement(By.id("test-ago")).getText(),
                        t -> t.matches("\\d+ s ago") && Integer.parseInt(t.split(" ")[0]) >= seconds + 2);
    }
}
