package io.sluice.collector;

import static io.sluice.support.Http.basic;
import static io.sluice.support.Http.post;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.support.Http;
import io.sluice.support.TestCollector;
import io.sluice.support.TopicReader;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every refusal: status, rule and offending index in a JSON body, and nothing of a refused request in Kafka. The
 * last test proves the topic holds only what was accepted.
 */
class CollectorRejectionTest {
    static TestCollector collector;
    static final String AUTH = basic(TestCollector.WRITE_KEY);

    @BeforeAll
    static void start() {
        collector = TestCollector.start();
    }

    @AfterAll
    static void stop() {
        collector.close();
    }

    @Test
    void authentication() {
        assertRejected(
                post(collector.url("/v1/track"), "{\"userId\":\"u\",\"event\":\"E\"}"), 401, "missing_write_key", -1);
        assertRejected(
                post(
                        collector.url("/v1/track"),
                        "{\"userId\":\"u\",\"event\":\"E\"}",
                        "Authorization",
                        basic("wk_wrong")),
                401,
                "invalid_write_key",
                -1);
        assertRejected(
                post(
                        collector.url("/v1/b"),
                        "{\"writeKey\":\"wk_wrong\",\"batch\":[{\"type\":\"track\",\"userId\":\"u\",\"event\":\"E\"}]}"),
                401,
                "invalid_write_key",
                -1);
        assertRejected(
                post(collector.url("/v1/track"), "{}", "Authorization", "Basic %%%"), 401, "invalid_write_key", -1);
    }

    @Test
    void malformedBodies() {
        assertRejected(
                post(collector.url("/v1/track"), "{\"userId\":", "Authorization", AUTH), 400, "invalid_json", -1);
        assertRejected(post(collector.url("/v1/track"), "[1,2]", "Authorization", AUTH), 400, "invalid_json", -1);
        assertRejected(
                post(collector.url("/v1/batch"), "{\"events\":[]}", "Authorization", AUTH), 400, "missing_batch", -1);
        assertRejected(
                post(collector.url("/v1/batch"), "{\"batch\":{}}", "Authorization", AUTH),
                400,
                "invalid_field_type",
                -1);
        assertRejected(
                post(collector.url("/v1/batch"), "{\"batch\":[1]}", "Authorization", AUTH), 400, "invalid_event", 0);
        assertRejected(
                post(
                        collector.url("/v1/batch"),
                        "not gzip".getBytes(),
                        "Authorization",
                        AUTH,
                        "Content-Encoding",
                        "gzip"),
                400,
                "invalid_gzip",
                -1);
        assertRejected(
                post(collector.url("/v1/batch"), "{}".getBytes(), "Authorization", AUTH, "Content-Encoding", "br"),
                400,
                "unsupported_encoding",
                -1);
    }

    @Test
    void eventRulesNameTheOffendingIndex() {
        String valid = "{\"type\":\"track\",\"userId\":\"u\",\"event\":\"ok\"}";
        assertBatchRejected(valid + ",{\"type\":\"track\",\"event\":\"no identity\"}", "missing_identity", 1);
        assertBatchRejected(valid + "," + valid + ",{\"type\":\"track\",\"userId\":\"u\"}", "missing_event", 2);
        assertBatchRejected("{\"type\":\"group\",\"userId\":\"u\"}", "missing_group_id", 0);
        assertBatchRejected(valid + ",{\"type\":\"alias\",\"userId\":\"u\"}", "missing_previous_id", 1);
        assertBatchRejected(
                "{\"type\":\"track\",\"userId\":\"u\",\"event\":\"E\",\"properties\":[1]}", "invalid_field_type", 0);
        assertBatchRejected("{\"type\":\"identify\",\"userId\":\"u\",\"traits\":\"vip\"}", "invalid_field_type", 0);
        assertBatchRejected("{\"type\":\"identify\",\"userId\":{\"id\":1}}", "invalid_field_type", 0);
        assertBatchRejected(
                "{\"type\":\"identify\",\"userId\":\"u\",\"timestamp\":\"yesterday\"}", "invalid_timestamp", 0);
        assertBatchRejected("{\"type\":\"purchase\",\"userId\":\"u\"}", "invalid_type", 0);
        assertBatchRejected("{\"userId\":\"u\"}", "missing_type", 0);
        assertRejected(
                post(collector.url("/v1/group"), "{\"userId\":\"u\"}", "Authorization", AUTH),
                400,
                "missing_group_id",
                0);
    }

    @Test
    void sizeLimits() {
        String big = "x".repeat(33 * 1024);
        assertRejected(
                batch(
                        "{\"type\":\"track\",\"userId\":\"u\",\"event\":\"ok\"},{\"type\":\"track\",\"userId\":\"u\",\"event\":\"E\",\"properties\":{\"p\":\""
                                + big + "\"}}"),
                413,
                "event_too_large",
                1);
        String huge = "{\"userId\":\"u\",\"event\":\"E\",\"properties\":{\"p\":\"" + "y".repeat(520 * 1024) + "\"}}";
        assertRejected(post(collector.url("/v1/track"), huge, "Authorization", AUTH), 413, "request_too_large", -1);
        // A gzip bomb: 20 KB on the wire, 20 MB inflated. Refused once 500 KB are inflated.
        byte[] bomb = Http.gzip(
                ("{\"batch\":[{\"type\":\"track\",\"userId\":\"u\",\"event\":\"" + " ".repeat(20 << 20) + "\"}]}")
                        .getBytes());
        assertThat(bomb.length).isLessThan(64 * 1024);
        assertRejected(
                post(collector.url("/v1/batch"), bomb, "Authorization", AUTH, "Content-Encoding", "gzip"),
                413,
                "request_too_large",
                -1);
        StringBuilder many = new StringBuilder();
        for (int i = 0; i < 2501; i++)
            many.append(i == 0 ? "" : ",").append("{\"type\":\"identify\",\"userId\":\"u\"}");
        assertRejected(batch(many.toString()), 400, "batch_too_large", -1);
    }

    @Test
    void nothingFromARejectedRequestReachesKafka() {
        // All-or-nothing: a batch whose last event is invalid leaves no trace, even of its valid events.
        String poisoned = UUID.randomUUID().toString();
        assertRejected(
                batch("{\"type\":\"track\",\"userId\":\"" + poisoned
                        + "\",\"event\":\"valid\"},{\"type\":\"track\",\"userId\":\"u\"}"),
                400,
                "missing_event",
                1);
        String sentinel = UUID.randomUUID().toString();
        assertThat(batch("{\"type\":\"track\",\"userId\":\"" + sentinel + "\",\"event\":\"sentinel\"}")
                        .statusCode())
                .isEqualTo(200);
        List<JsonNode> events = TopicReader.readEvents(collector.bootstrapServers(), collector.topic(), 1);
        assertThat(events).extracting(e -> e.get("userId").asText()).containsExactly(sentinel);
    }

    private HttpResponse<String> batch(String events) {
        return post(collector.url("/v1/batch"), "{\"batch\":[" + events + "]}", "Authorization", AUTH);
    }

    private void assertBatchRejected(String events, String rule, int index) {
        assertRejected(batch(events), 400, rule, index);
    }

    private static void assertRejected(HttpResponse<String> response, int status, String rule, int index) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        assertThat(response.headers().firstValue("Content-Type").orElse("")).startsWith("application/json");
        JsonNode body = TopicReader.json(response.body());
        assertThat(body.get("success").asBoolean()).isFalse();
        assertThat(body.get("rule").asText()).isEqualTo(rule);
        assertThat(body.get("error").asText()).isNotBlank();
        if (index >= 0) assertThat(body.get("index").asInt()).isEqualTo(index);
        else assertThat(body.has("index")).isFalse();
    }
}
