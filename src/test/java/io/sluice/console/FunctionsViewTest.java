package io.sluice.console;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/** The console never shows a function's settings values: they carry the services' secrets from ${ENV}. */
class FunctionsViewTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void everyScalarOfTheSettingsIsHiddenAndTheShapeKept() throws Exception {
        JsonNode settings = JSON.readTree("""
                {"crm": {"url": "https://crm.example.com", "apiKey": "s3cr3t-key", "retries": 3, "on": true},
                 "plans": ["pro", "free"], "none": null}""");
        String shown = FunctionsView.redacted(settings).toString();
        assertThat(shown).doesNotContain("s3cr3t-key", "crm.example.com", "pro", "3", "true");
        JsonNode tree = JSON.readTree(shown);
        assertThat(tree.at("/crm/apiKey").asText()).isEqualTo(FunctionsView.HIDDEN);
        assertThat(tree.at("/crm/retries").asText()).isEqualTo(FunctionsView.HIDDEN);
        assertThat(tree.at("/plans").size()).isEqualTo(2);
        assertThat(tree.at("/none").isNull()).isTrue();
        assertThat(settings.at("/crm/apiKey").asText())
                .as("the configuration is untouched")
                .isEqualTo("s3cr3t-key");
    }
}
