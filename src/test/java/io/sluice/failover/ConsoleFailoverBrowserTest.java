package io.sluice.failover;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.support.Browser;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;

/**
 * The console's database page on the failover rig (real primary and hot standby behind a switchable endpoint, no
 * admin token: a read-only console): the primary is killed and the standby promoted, and the page shows the
 * instance roles flip, the writer change in the history and the writer_changed alarm.
 */
class ConsoleFailoverBrowserTest {
    static final Duration UI = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    @Test
    void promotingTheStandbyShowsTheWriterChangeOnTheDatabasePage() throws Exception {
        try (FailoverRig rig = new FailoverRig(dir);
                Browser browser = new Browser()) {
            String primary = "127.0.0.1:" + rig.cluster.primaryPort();
            String standby = "127.0.0.1:" + rig.cluster.standbyPort();
            browser.driver.get(rig.sluice.adminUrl() + "/database");
            await().atMost(UI)
                    .ignoreExceptions()
                    .until(() -> role(browser, primary).equals("writer")
                            && role(browser, standby).equals("reader"));
            assertThat(browser.driver.findElements(By.id("db-pause")).get(0).isEnabled())
                    .as("no admin.token: read-only")
                    .isFalse();

            rig.cluster.killPrimary();
            rig.cluster.promoteStandby();
            rig.proxy.switchTo(rig.cluster.standbyPort(), true);

            await().atMost(UI)
                    .ignoreExceptions()
                    .until(() -> role(browser, standby).equals("writer")
                            && role(browser, primary).equals("unreachable"));
            await().atMost(UI)
                    .ignoreExceptions()
                    .until(() -> browser.driver
                            .findElement(By.id("writer-history"))
                            .getText()
                            .contains(primary + " " + standby));
            assertThat(browser.driver.findElement(By.id("writer")).getText()).isEqualTo(standby);
            assertThat(browser.driver.findElement(By.tagName("main")).getText()).contains("writer_changed");
            browser.screenshot("database-failover");

            // issue 25: the overview leads with the flipped writer too, within 10 s
            browser.driver.get(rig.sluice.adminUrl() + "/");
            await().atMost(Duration.ofSeconds(10))
                    .ignoreExceptions()
                    .until(() -> browser.driver
                            .findElement(By.cssSelector("#problems li[data-kind='alarm']"))
                            .getText()
                            .contains("writer_changed"));
            browser.screenshot("overview-writer-flipped");
        }
    }

    private static String role(Browser browser, String instance) {
        WebElement row = browser.driver.findElement(By.cssSelector("tr[data-instance='" + instance + "']"));
        return row.getAttribute("data-role");
    }
}
