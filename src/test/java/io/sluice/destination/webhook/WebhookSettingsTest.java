package io.sluice.destination.webhook;

import static io.sluice.destination.webhook.Webhooks.settings;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.config.ConfigException;
import io.sluice.runtime.DestinationRegistry;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The webhook keys as the config loader hands them over: defaults, checks, and what a header may be. */
class WebhookSettingsTest {
    private static final String URL = "http://127.0.0.1:9/hook";

    @Test
    void defaultsComeFromTheSchemaAndTheTypeIsRegistered() {
        WebhookSettings settings = WebhookSettings.from(settings(URL));

        assertThat(settings.batchMode()).isFalse();
        assertThat(settings.maxBatchEvents()).isEqualTo(100);
        assertThat(settings.timeout()).isEqualTo(Duration.ofSeconds(10));
        assertThat(settings.maxConcurrency()).isEqualTo(8);
        assertThat(settings.orderPerUser()).isTrue();
        assertThat(settings.rateLimit()).isNull();
        assertThat(settings.signed()).isFalse();
        assertThat(settings.headers()).isEmpty();
        assertThat(settings.breaker())
                .isEqualTo(new WebhookSettings.Breaker(100, 20, 50, 90, 5, Duration.ofSeconds(10)));
        assertThat(settings.maxWait()).isEqualTo(Duration.ofSeconds(2));
        assertThat(DestinationRegistry.factory("webhook")).isInstanceOf(WebhookDestinationFactory.class);
    }

    @Test
    void readsRatesHeadersAndTheSecret() {
        WebhookSettings settings = WebhookSettings.from(settings(
                URL,
                "rateLimit: 5000 events/s",
                "secret: abc",
                "headers: {X-Team: growth, X-Version: 2}",
                "mode: batch"));

        assertThat(settings.rateLimit()).isEqualTo(new WebhookSettings.Rate(5000, true));
        assertThat(WebhookSettings.from(settings(URL, "rateLimit: 200/s")).rateLimit())
                .isEqualTo(new WebhookSettings.Rate(200, false));
        assertThat(settings.headers()).containsEntry("X-Team", "growth").containsEntry("X-Version", "2");
        assertThat(settings.signed()).isTrue();
        assertThat(settings.describe()).doesNotContain("abc").doesNotContain("growth");
    }

    @Test
    void refusesHeadersSluiceSetsAndHeadersThatAreNotSingleValues() {
        WebhookDestinationFactory factory = new WebhookDestinationFactory();
        assertThatThrownBy(() -> factory.validate(settings(URL, "headers: {Idempotency-Key: mine}")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("headers.Idempotency-Key")
                .hasMessageContaining("set by Sluice");
        assertThatThrownBy(() -> factory.validate(settings(URL, "headers: {x-sluice-signature: forged}")))
                .isInstanceOf(ConfigException.class);
        assertThatThrownBy(() -> factory.validate(settings(URL, "headers: {X-List: [1, 2]}")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("single value");
        assertThatThrownBy(() -> factory.validate(settings(URL, "headers: [X-A]")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("mapping");
    }
}
