package io.sluice.privacy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.config.ConfigLoader;
import io.sluice.runtime.Sluice;
import io.sluice.support.Browser;
import io.sluice.support.CountingReceiver;
import io.sluice.support.TestKafka;
import io.sluice.support.TestPostgres;
import java.time.Clock;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;

/**
 * The console's Privacy page in a real browser (Chromium) against a real process: it needs a login, submits a
 * request from its form, and shows each request with its state per target as the workers carry it out.
 */
class PrivacyConsoleBrowserTest {
    private static final Duration UI = Duration.ofSeconds(30);

    @Test
    void thePrivacyPageSubmitsRequestsAndShowsTheirStatePerTarget() throws Exception {
        try (CountingReceiver receiver = new CountingReceiver();
                Sluice sluice = new Sluice(
                        new ConfigLoader(Map.of()).loadYaml("""
                                kafka: {bootstrapServers: "%s", eventsTopic: privacy-console-%s, partitions: 1}
                                postgres: {url: "%s", user: sluice}
                                collector: {host: 127.0.0.1, port: 0}
                                admin: {host: 127.0.0.1, port: 0, token: %s}
                                sources: [{id: web, writeKey: %s}]
                                destinations: [{id: hooks, type: webhook, url: "%s"}]
                                syncs: [{id: web-to-hooks, source: web, destination: hooks}]
                                planner: {groupId: privacy-console-%s}
                                """.formatted(
                                        TestKafka.bootstrapServers(),
                                        UUID.randomUUID(),
                                        TestPostgres.createDatabase("privacy_console"),
                                        PrivacyRig.TOKEN,
                                        PrivacyRig.WRITE_KEY,
                                        receiver.url(),
                                        UUID.randomUUID())),
                        EnumSet.allOf(Sluice.Role.class),
                        false,
                        Clock.systemUTC());
                Browser browser = new Browser()) {
            sluice.start();
            String admin = sluice.adminUrl();
            browser.driver.get(admin + "/privacy");
            assertThat(find(browser, By.tagName("main")).getText()).contains("log in to see them");

            browser.driver.get(admin + "/login");
            find(browser, By.id("token")).sendKeys(PrivacyRig.TOKEN);
            find(browser, By.id("login-button")).click();
            await().atMost(UI)
                    .until(() -> !browser.driver.findElements(By.id("who")).isEmpty());

            browser.driver.get(admin + "/privacy");
            find(browser, By.id("privacy-ids")).sendKeys("mallory\nanon-m");
            find(browser, By.id("privacy-submit")).click();
            long deleted = PrivacyRig.submit(sluice, "delete", "mallory");
            await().atMost(UI).ignoreExceptions().until(() -> {
                String rows = find(browser, By.id("privacy-rows")).getText();
                return rows.contains("suppress")
                        && rows.contains("done")
                        && rows.contains("suppressed 2 id(s)")
                        && rows.contains("admin API: dpo@example.com")
                        && rows.contains("destination:hooks")
                        && rows.contains("no deletionUrl configured");
            });
            WebElement delete = find(browser, By.cssSelector("tr[data-request='" + deleted + "']"));
            assertThat(delete.getText()).contains("delete", "queue", "0 retry events, 0 dead letters");
            browser.screenshot("privacy");
        }
    }

    private static WebElement find(Browser browser, By by) {
        return await().atMost(UI).ignoreExceptions().until(() -> browser.driver.findElement(by), Objects::nonNull);
    }
}
