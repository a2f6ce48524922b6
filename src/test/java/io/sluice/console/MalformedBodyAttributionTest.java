package io.sluice.console;

import static io.sluice.support.Http.basic;
import static io.sluice.support.Http.post;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.kafka.RejectionsTopic;
import io.sluice.support.Http;
import io.sluice.support.TestCollector;
import io.sluice.support.TopicReader;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Bug 2 of issue 25: malformed JSON sent with a valid write key (HTTP Basic) was attributed to source "unknown", left
 * out of that source's rejected count and shown on every other source's debugger. The write key in the header names
 * the source before the body is read, so the refusal belongs to it.
 */
class MalformedBodyAttributionTest {
    @Test
    void malformedJsonWithAValidWriteKeyIsTheSourcesRejection() throws Exception {
        try (TestCollector collector = TestCollector.start()) {
            var response = post(
                    collector.url("/v1/track"),
                    "{\"userId\": \"u\", \"event\":",
                    "Authorization",
                    basic(TestCollector.WRITE_KEY),
                    "Content-Type",
                    "application/json");
            assertThat(response.statusCode()).isEqualTo(400);
            assertThat(response.body()).contains("invalid_json");

            List<JsonNode> published = TopicReader.read(
                            collector.bootstrapServers(),
                            RejectionsTopic.name(collector.topic()),
                            1,
                            Duration.ofSeconds(30))
                    .stream()
                    .map(r -> TopicReader.json(r.value()))
                    .toList();
            assertThat(published).hasSize(1);
            assertThat(published.get(0).path("rule").asText()).isEqualTo("invalid_json");
            assertThat(published.get(0).path("sourceId").asText())
                    .as("the source of the write key, not 'unknown'")
                    .isEqualTo("web");

            // the console counts it as the source's refusal, and not as the other source's
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                JsonNode web = TopicReader.json(
                        Http.get(collector.adminUrl("/console/api/sources/web")).body());
                assertThat(web.path("rejectedTotal").asLong()).isEqualTo(1);
            });
            JsonNode app = TopicReader.json(
                    Http.get(collector.adminUrl("/console/api/sources/app")).body());
            assertThat(app.path("rejectedTotal").asLong()).isZero();
        }
    }
}
