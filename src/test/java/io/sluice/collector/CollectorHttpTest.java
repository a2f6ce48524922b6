package io.sluice.collector;

import static io.sluice.support.Http.basic;
import static io.sluice.support.Http.post;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.support.Http;
import io.sluice.support.TestCollector;
import io.sluice.support.TestKafka;
import io.sluice.support.TopicReader;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The tracking API end to end over real HTTP into a real Kafka topic: what is accepted and how it is stored. */
class CollectorHttpTest {
    static final Instant NOW = Instant.parse("2026-03-01T12:00:00Z");
    static TestCollector collector;

    @BeforeAll
    static void start() {
        collector = TestCollector.start(TestKafka.bootstrapServers(), "", Clock.fixed(NOW, ZoneOffset.UTC));
    }

    @AfterAll
    static void stop() {
        collector.close();
    }

    @Test
    void trackIsEnrichedAndKeyedByUser() {
        String id = UUID.randomUUID().toString();
        var response = post(
                collector.url("/v1/track"),
                """
                {"userId":"user-1","event":"Order Completed","messageId":"%s","properties":{"revenue":42.5},
                 "timestamp":"2026-03-01T11:00:00.000Z","sentAt":"2026-03-01T11:00:10.000Z"}""".formatted(id),
                "Authorization",
                basic(TestCollector.WRITE_KEY),
                "Content-Type",
                "application/json");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEqualTo("{\"success\":true}");

        var record = recordWithId(id);
        assertThat(record.key()).isEqualTo("web:user-1");
        JsonNode event = TopicReader.json(record.value());
        assertThat(event.get("type").asText()).isEqualTo("track");
        assertThat(event.get("sourceId").asText()).isEqualTo("web");
        assertThat(event.get("receivedAt").asText()).isEqualTo("2026-03-01T12:00:00.000Z");
        // the client's clock is an hour behind: receivedAt - (sentAt - timestamp) = 12:00:00 - 10 s
        assertThat(event.get("timestamp").asText()).isEqualTo("2026-03-01T11:59:50.000Z");
        assertThat(event.get("originalTimestamp").asText()).isEqualTo("2026-03-01T11:00:00.000Z");
        assertThat(event.at("/context/ip").asText()).isEqualTo("127.0.0.1");
        assertThat(event.at("/properties/revenue").asDouble()).isEqualTo(42.5);
    }

    @Test
    void everyEndpointWithAndWithoutTrailingSlashAndAnyContentType() {
        Map<String, String> bodies = Map.of(
                "/v1/track",
                "{\"userId\":\"u\",\"event\":\"E\"",
                "/v1/t/",
                "{\"anonymousId\":\"a\",\"event\":\"E\"",
                "/v1/identify/",
                "{\"userId\":\"u\",\"traits\":{\"plan\":\"pro\"}",
                "/v1/i",
                "{\"userId\":\"u\"",
                "/v1/page",
                "{\"userId\":\"u\",\"name\":\"Home\"",
                "/v1/p",
                "{\"userId\":\"u\"",
                "/v1/screen",
                "{\"userId\":\"u\",\"name\":\"Main\"",
                "/v1/s/",
                "{\"userId\":\"u\"",
                "/v1/group",
                "{\"userId\":\"u\",\"groupId\":\"g1\"",
                "/v1/g",
                "{\"userId\":\"u\",\"groupId\":42");
        Map<String, String> more = Map.of(
                "/v1/alias",
                "{\"userId\":\"u\",\"previousId\":\"old\"",
                "/v1/a/",
                "{\"userId\":\"u\",\"previousId\":\"old\"");
        Map<String, String> ids = new HashMap<>();
        for (var entry : concat(bodies, more).entrySet()) {
            String id = UUID.randomUUID().toString();
            ids.put(id, entry.getKey());
            var response = post(
                    collector.url(entry.getKey()),
                    entry.getValue() + ",\"messageId\":\"" + id + "\"}",
                    "Authorization",
                    basic(TestCollector.WRITE_KEY),
                    "Content-Type",
                    "text/plain");
            assertThat(response.statusCode()).as(entry.getKey()).isEqualTo(200);
        }
        Map<String, JsonNode> stored = eventsById(ids.size());
        ids.forEach((id, path) -> {
            String expectedType = switch (path.charAt(4)) {
                case 't' -> "track";
                case 'i' -> "identify";
                case 'p' -> "page";
                case 's' -> "screen";
                case 'g' -> "group";
                default -> "alias";
            };
            assertThat(stored.get(id)).as(path).isNotNull();
            assertThat(stored.get(id).get("type").asText()).as(path).isEqualTo(expectedType);
        });
    }

    @Test
    void browserBatchWithWriteKeyInBodyAndNoAuthorizationHeader() {
        String first = UUID.randomUUID().toString();
        String second = UUID.randomUUID().toString();
        var response = post(
                collector.url("/v1/b"),
                """
                {"writeKey":"%s","sentAt":"2026-03-01T12:00:00.000Z",
                 "context":{"library":{"name":"batch-lib"},"locale":"en-GB"},
                 "batch":[
                   {"type":"track","event":"A","anonymousId":"anon-1","messageId":"%s","context":{"locale":"de-DE"},
                    "timestamp":"2026-03-01T11:59:59.000Z"},
                   {"type":"page","name":"Home","anonymousId":"anon-1","messageId":"%s","writeKey":"%s"}
                 ]}""".formatted(TestCollector.WRITE_KEY, first, second, TestCollector.WRITE_KEY),
                "Content-Type",
                "text/plain");
        assertThat(response.statusCode()).isEqualTo(200);
        Map<String, JsonNode> stored = eventsById(2);
        JsonNode track = stored.get(first);
        assertThat(track.at("/context/locale").asText())
                .as("the event's own context wins")
                .isEqualTo("de-DE");
        assertThat(track.at("/context/library/name").asText())
                .as("batch context merged in")
                .isEqualTo("batch-lib");
        assertThat(track.get("timestamp").asText()).isEqualTo("2026-03-01T11:59:59.000Z");
        assertThat(track.get("sentAt").asText()).isEqualTo("2026-03-01T12:00:00.000Z");
        JsonNode page = stored.get(second);
        assertThat(page.has("writeKey")).as("credentials are not stored").isFalse();
        assertThat(page.get("timestamp").asText())
                .as("no client timestamp: receivedAt")
                .isEqualTo("2026-03-01T12:00:00.000Z");
        assertThat(page.has("originalTimestamp")).isFalse();
    }

    @Test
    void gzipBodiesAreAccepted() {
        String id = UUID.randomUUID().toString();
        byte[] body =
                ("{\"batch\":[{\"type\":\"identify\",\"userId\":\"gz\",\"messageId\":\"" + id + "\"}]}").getBytes();
        var response = post(
                collector.url("/v1/batch"),
                Http.gzip(body),
                "Authorization",
                basic(TestCollector.WRITE_KEY),
                "Content-Encoding",
                "gzip");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(eventsById(1)).containsKey(id);
    }

    @Test
    void missingMessageIdIsGeneratedAndClientIpKeptWhenGiven() {
        String marker = UUID.randomUUID().toString();
        var response = post(
                collector.url("/v1/track"),
                """
                {"userId":"%s","event":"No Id","context":{"ip":"203.0.113.9"}}""".formatted(marker),
                "Authorization",
                basic(TestCollector.WRITE_KEY),
                "X-Forwarded-For",
                "198.51.100.1");
        assertThat(response.statusCode()).isEqualTo(200);
        JsonNode event = TopicReader.readEvents(collector.bootstrapServers(), collector.topic(), 1).stream()
                .filter(e -> e.path("userId").asText().equals(marker))
                .findFirst()
                .orElseThrow();
        assertThat(event.get("messageId").asText()).startsWith("sluice-");
        assertThat(event.at("/context/ip").asText()).isEqualTo("203.0.113.9");
    }

    @Test
    void corsPreflightSucceedsFromAnyOrigin() {
        HttpResponse<String> preflight = Http.request(
                "OPTIONS",
                collector.url("/v1/t"),
                "Origin",
                "https://shop.example",
                "Access-Control-Request-Method",
                "POST",
                "Access-Control-Request-Headers",
                "content-type,authorization");
        assertThat(preflight.statusCode()).isBetween(200, 204);
        assertThat(preflight.headers().firstValue("Access-Control-Allow-Origin"))
                .hasValue("https://shop.example");
        assertThat(preflight
                        .headers()
                        .firstValue("Access-Control-Allow-Methods")
                        .orElse(""))
                .contains("POST");
        assertThat(preflight
                        .headers()
                        .firstValue("Access-Control-Allow-Headers")
                        .orElse(""))
                .contains("authorization");

        var response = post(
                collector.url("/v1/t"),
                "{\"userId\":\"u\",\"event\":\"Cors\"}",
                "Origin",
                "https://shop.example",
                "Authorization",
                basic(TestCollector.WRITE_KEY));
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Access-Control-Allow-Origin")).hasValue("https://shop.example");
    }

    @Test
    void adminEndpointsReportHealthReadinessAndMetrics() {
        post(collector.url("/v1/track"), "{\"userId\":\"u\"}", "Authorization", basic(TestCollector.WRITE_KEY));
        post(
                collector.url("/v1/track"),
                "{\"userId\":\"u\",\"event\":\"M\"}",
                "Authorization",
                basic(TestCollector.WRITE_KEY));
        assertThat(Http.get(collector.adminUrl("/health")).statusCode()).isEqualTo(200);
        var ready = Http.get(collector.adminUrl("/ready"));
        assertThat(ready.statusCode()).isEqualTo(200);
        assertThat(ready.body()).contains("\"ready\":true");
        String metrics = Http.get(collector.adminUrl("/metrics")).body();
        assertThat(metrics)
                .contains("sluice_collector_requests_total{outcome=\"accepted\",source=\"web\"}")
                .contains("sluice_collector_events_total{outcome=\"accepted\",source=\"web\"}")
                .contains("sluice_collector_rejected_events_total{reason=\"missing_event\"}")
                .contains("sluice_collector_payload_bytes_count{source=\"web\"}")
                .contains("sluice_collector_request_seconds_bucket")
                .contains("sluice_collector_kafka_produce_seconds_bucket");
    }

    static Map<String, String> concat(Map<String, String> a, Map<String, String> b) {
        Map<String, String> all = new HashMap<>(a);
        all.putAll(b);
        return all;
    }

    static ConsumerRecord<String, String> recordWithId(String id) {
        return TopicReader.read(collector.bootstrapServers(), collector.topic(), 1, Duration.ofSeconds(30)).stream()
                .filter(r -> r.value().contains(id))
                .findFirst()
                .orElseThrow();
    }

    static Map<String, JsonNode> eventsById(int atLeast) {
        List<JsonNode> events = TopicReader.readEvents(collector.bootstrapServers(), collector.topic(), atLeast);
        return events.stream()
                .collect(Collectors.toMap(e -> e.get("messageId").asText(), Function.identity(), (x, y) -> x));
    }
}
