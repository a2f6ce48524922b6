package io.sluice.collector;

import static io.sluice.support.Http.basic;
import static io.sluice.support.Http.post;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.config.ConfigLoader;
import io.sluice.event.RoutingHeaders;
import io.sluice.event.UserKey;
import io.sluice.runtime.Sluice;
import io.sluice.support.TestKafka;
import io.sluice.support.TopicReader;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

/**
 * Every event record carries its routing headers, and they say exactly what the JSON value says: source, type,
 * track event name, user ({@link UserKey}) and received time — on both ways a record is written (spliced from the
 * request's bytes, and from a tree for a source with a contract). Untrusted text is carried as UTF-8 bytes as sent.
 */
class CollectorHeadersTest {
    static final Instant NOW = Instant.parse("2026-03-01T12:00:00.123Z");

    @Test
    void splicedAndContractCheckedRecordsCarryHeadersThatMatchTheirValues() {
        String topic = "headers-" + UUID.randomUUID();
        var config = new ConfigLoader(Map.of()).loadYaml("""
                kafka: {bootstrapServers: "%s", eventsTopic: %s, partitions: 2, violationsTopic: %s-violations}
                collector: {host: 127.0.0.1, port: 0}
                admin: {host: 127.0.0.1, port: 0}
                sources:
                  - {id: web, writeKey: wk_headers_web_0123456789}
                  - {id: app, writeKey: wk_headers_app_0123456789, contract: {unplannedEvents: allow, events: {"Planned": {}}}}
                """.formatted(TestKafka.bootstrapServers(), topic, topic));
        String batch = """
                {"batch":[
                  {"type":"track","event":"Bestellung abgeschlossen ✓\\r\\nX-Injected: 1","userId":"ユーザー:1","messageId":"t1"},
                  {"type":"identify","anonymousId":"anon-7","messageId":"i1","traits":{"plan":"pro"}},
                  {"type":"page","userId":42,"name":"Home","messageId":"p1"},
                  {"type":"track","event":"Planned","userId":"u9","messageId":"m1"}
                ]}""";
        try (Sluice sluice =
                new Sluice(config, EnumSet.of(Sluice.Role.COLLECTOR), false, Clock.fixed(NOW, ZoneOffset.UTC))) {
            sluice.start();
            for (String writeKey : List.of("wk_headers_web_0123456789", "wk_headers_app_0123456789")) {
                var response = post(
                        sluice.collectorUrl() + "/v1/batch",
                        batch.replace("\"messageId\":\"", "\"messageId\":\"" + writeKey.substring(11, 14)),
                        "Authorization",
                        basic(writeKey),
                        "Content-Type",
                        "application/json");
                assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
            }
            List<ConsumerRecord<String, String>> records =
                    TopicReader.read(TestKafka.bootstrapServers(), topic, 8, Duration.ofSeconds(30));
            assertThat(records).hasSize(8);
            for (ConsumerRecord<String, String> record : records) {
                JsonNode event = TopicReader.json(record.value());
                var headers = record.headers();
                assertThat(RoutingHeaders.present(headers)).isTrue();
                assertThat(RoutingHeaders.text(headers, RoutingHeaders.SOURCE))
                        .isEqualTo(event.get("sourceId").asText());
                assertThat(RoutingHeaders.text(headers, RoutingHeaders.TYPE))
                        .isEqualTo(event.get("type").asText());
                assertThat(RoutingHeaders.text(headers, RoutingHeaders.EVENT))
                        .isEqualTo(
                                event.get("type").asText().equals("track")
                                        ? event.get("event").asText()
                                        : null);
                assertThat(RoutingHeaders.text(headers, RoutingHeaders.USER)).isEqualTo(UserKey.of(event));
                assertThat(record.key()).isEqualTo(event.get("sourceId").asText() + ":" + UserKey.of(event));
                assertThat(RoutingHeaders.receivedAt(headers))
                        .isEqualTo(Instant.parse(event.get("receivedAt").asText()))
                        .isEqualTo(NOW);
            }
            assertThat(records)
                    .filteredOn(r -> r.value().contains("Bestellung"))
                    .hasSize(2)
                    .allSatisfy(r -> assertThat(RoutingHeaders.text(r.headers(), RoutingHeaders.EVENT))
                            .isEqualTo("Bestellung abgeschlossen ✓\r\nX-Injected: 1"));
            assertThat(records)
                    .extracting(r -> RoutingHeaders.text(r.headers(), RoutingHeaders.USER))
                    .containsOnly("ユーザー:1", "anon-7", "42", "u9");
        }
    }
}
