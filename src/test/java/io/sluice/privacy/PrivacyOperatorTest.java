package io.sluice.privacy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.config.ConfigLoader;
import io.sluice.runtime.Sluice;
import io.sluice.support.Browser;
import io.sluice.support.Cli;
import io.sluice.support.CountingReceiver;
import io.sluice.support.Http;
import io.sluice.support.TestKafka;
import io.sluice.support.TestPostgres;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;

/**
 * The operator's ways in, against a real process: the console's Privacy page in a real browser (Chromium) needs a
 * login, submits a request from its form and shows each request with its state per target as the workers carry it
 * out; the admin API refuses more than 5,000 ids with a 400 that says so; {@code sluice privacy} creates, shows and
 * refuses requests likewise, and honours its idempotency key.
 */
class PrivacyOperatorTest {
    private static final Duration UI = Duration.ofSeconds(30);

    @Test
    void consoleAdminApiAndCliTakeRequestsAndShowTheirStatePerTarget(@TempDir Path dir) throws Exception {
        Path config = dir.resolve("sluice.yaml");
        try (CountingReceiver receiver = new CountingReceiver();
                Sluice sluice = new Sluice(
                        new ConfigLoader(Map.of()).load(write(config, """
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
                                        UUID.randomUUID()))),
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

            String ids =
                    IntStream.range(0, 5_001).mapToObj(i -> "\"u" + i + "\"").collect(Collectors.joining(","));
            HttpResponse<String> tooMany = Http.post(
                    admin + "/admin/privacy/requests",
                    "{\"type\":\"delete\",\"userIds\":[" + ids + "]}",
                    "Authorization",
                    "Bearer " + PrivacyRig.TOKEN);
            assertThat(tooMany.statusCode()).isEqualTo(400);
            assertThat(tooMany.body()).contains("at most 5000 ids per request, got 5001");
            assertThat(Http.post(admin + "/admin/privacy/requests", "{\"type\":\"delete\",\"userIds\":[]}")
                            .statusCode())
                    .as("no token, no session")
                    .isEqualTo(401);

            String c = config.toString();
            String created =
                    Cli.run("privacy", "suppress", "--config", c, "--user", "trent", "--by", "alice", "--key", "T-1");
            assertThat(created).startsWith("Created privacy request ");
            String id = created.substring("Created privacy request ".length()).split(" ")[0];
            assertThat(Cli.run("privacy", "suppress", "--config", c, "--user", "other", "--key", "T-1"))
                    .startsWith("Already exists: privacy request " + id + " ");
            await().atMost(UI)
                    .until(() -> Cli.run("privacy", "show", "--config", c, id).matches("(?s).*state:\\s+done.*"));
            assertThat(Cli.run("privacy", "show", "--config", c, id))
                    .contains("requested by: cli: alice", "suppression", "suppressed 1 id(s)");
            assertThat(Cli.run("privacy", "list", "--config", c)).contains(id + " ", "suppress", "done");
            String[] args = new String[4 + 5_001];
            System.arraycopy(new String[] {"privacy", "delete", "--config", c}, 0, args, 0, 4);
            for (int i = 0; i < 5_001; i++) args[4 + i] = "--user=u" + i;
            Cli.Result refused = Cli.exec(args);
            assertThat(refused.code()).isEqualTo(2);
            assertThat(refused.err()).contains("at most 5000 ids per request, got 5001");
        }
    }

    private static Path write(Path file, String text) throws Exception {
        Files.writeString(file, text);
        return file;
    }

    private static WebElement find(Browser browser, By by) {
        return await().atMost(UI).ignoreExceptions().until(() -> browser.driver.findElement(by), Objects::nonNull);
    }
}
