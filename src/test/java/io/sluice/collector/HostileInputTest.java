package io.sluice.collector;

import static io.sluice.support.Http.basic;
import static io.sluice.support.Http.post;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.support.Gzip;
import io.sluice.support.Http;
import io.sluice.support.LogCapture;
import io.sluice.support.RawHttp;
import io.sluice.support.TestCollector;
import io.sluice.support.TopicReader;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * One regression test per defect of issue #12 (numbered as there), against a real collector over HTTP and a real
 * broker. Every refusal is a JSON 4xx naming its rule; the last test proves the topic holds exactly the events
 * of the requests that were accepted, so nothing of a refused one reached Kafka.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class HostileInputTest {
    static final String AUTH = basic(TestCollector.WRITE_KEY);
    static final Set<String> accepted = ConcurrentHashMap.newKeySet();
    static TestCollector collector;
    static LogCapture logs;

    @BeforeAll
    static void start() {
        collector = TestCollector.start();
        logs = LogCapture.open();
    }

    @AfterAll
    static void stop() {
        logs.close();
        collector.close();
    }

    @Test
    void d1_correctedTimestampOutsideYears1To9999IsA400NamingTheField() {
        String event =
                "{\"type\":\"track\",\"userId\":\"u\",\"event\":\"E\",\"timestamp\":\"9999-12-31T23:59:59Z\",\"sentAt\":\"0001-01-01T00:00:00Z\"}";
        assertRejected(batch(event), 400, "invalid_timestamp", 0, "'timestamp'");
        StringBuilder hundred = new StringBuilder();
        for (int i = 0; i < 99; i++)
            hundred.append(valid(UUID.randomUUID().toString())).append(',');
        assertRejected(batch(hundred + event), 400, "invalid_timestamp", 99, "'timestamp'");
        // given ones outside the range, the shapes of the report included
        assertRejected(
                batch(
                        "{\"type\":\"track\",\"userId\":\"u\",\"event\":\"E\",\"timestamp\":\"+999999999-12-31T23:59:59Z\"}"),
                400,
                "invalid_timestamp",
                0,
                "'timestamp'");
        assertRejected(
                batch("{\"type\":\"track\",\"userId\":\"u\",\"event\":\"E\",\"sentAt\":\"0000-12-31T23:59:59Z\"}"),
                400,
                "invalid_timestamp",
                0,
                "'sentAt'");
        String metrics = Http.get(collector.adminUrl("/metrics")).body();
        assertThat(metrics)
                .contains("sluice_collector_rejected_events_total{reason=\"invalid_timestamp\"}")
                .contains("sluice_collector_requests_total{outcome=\"rejected\",source=\"web\"}");
    }

    @Test
    void d2_thousandsOfGzipMembersAreRefusedWithoutStackOverflow() {
        byte[] empty = Gzip.member(new byte[0]);
        byte[] body = RawHttp.concat(
                Gzip.repeat(empty, 20_000), Gzip.member(("{\"batch\":[" + valid("x") + "]}").getBytes()));
        logs.clear();
        assertRejected(
                post(collector.url("/v1/batch"), body, "Authorization", AUTH, "Content-Encoding", "gzip"),
                400,
                "invalid_gzip",
                -1,
                "members");
        assertThat(logs.errors()).isEmpty();
        // a few members are fine: their contents are concatenated
        String id = UUID.randomUUID().toString();
        byte[] json = ("{\"batch\":[" + valid(id) + "]}").getBytes();
        byte[] split = RawHttp.concat(
                Gzip.member(new byte[0]),
                Gzip.member(Arrays.copyOf(json, 10)),
                Gzip.member(Arrays.copyOfRange(json, 10, json.length)));
        assertAccepted(post(collector.url("/v1/batch"), split, "Authorization", AUTH, "Content-Encoding", "gzip"), id);
    }

    @Test
    void d3_aWrongKeyInTheHeaderIsRefusedBeforeTheBodyIsRead() {
        long started = System.nanoTime();
        RawHttp.Response response = RawHttp.exchange(
                collector.url("/v1/batch"),
                RawHttp.head(
                        "POST",
                        collector.url("/v1/batch"),
                        "Authorization",
                        basic("wk_wrong"),
                        "Content-Length",
                        "512000"),
                false,
                5000);
        assertThat(response.status()).isEqualTo(401);
        assertThat(TopicReader.json(response.body()).get("rule").asText()).isEqualTo("invalid_write_key");
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(2));
    }

    @Test
    void d4_theEventLimitAppliesToTheEventAsStoredWithTheBatchContextMerged() {
        String context = "{\"big\":\"" + "c".repeat(300 * 1024) + "\"}";
        StringBuilder events = new StringBuilder();
        for (int i = 0; i < 600; i++)
            events.append(i == 0 ? "" : ",").append("{\"type\":\"identify\",\"userId\":\"u\"}");
        byte[] body = ("{\"context\":" + context + ",\"batch\":[" + events + "]}").getBytes();
        byte[] gzipped = Http.gzip(body);
        assertThat(gzipped.length).isLessThan(4000);
        assertRejected(
                post(collector.url("/v1/batch"), gzipped, "Authorization", AUTH, "Content-Encoding", "gzip"),
                413,
                "event_too_large",
                0,
                "as stored");
        // each part under the limit, together over it
        String half = "h".repeat(20 * 1024);
        assertRejected(
                post(
                        collector.url("/v1/batch"),
                        "{\"context\":{\"a\":\"" + half
                                + "\"},\"batch\":[{\"type\":\"track\",\"userId\":\"u\",\"event\":\"E\",\"properties\":{\"b\":\""
                                + half + "\"}}]}",
                        "Authorization",
                        AUTH),
                413,
                "event_too_large",
                0,
                "as stored");
    }

    @Test
    void d5_duplicateKeysAreRefusedTheBatchKeyIncluded() {
        assertRejected(
                post(
                        collector.url("/v1/batch"),
                        "{\"batch\":[{\"type\":\"track\"}],\"batch\":[" + valid("d5") + "]}",
                        "Authorization",
                        AUTH),
                400,
                "duplicate_key",
                -1,
                "batch");
        assertRejected(
                batch("{\"type\":\"track\",\"userId\":\"a\",\"userId\":\"b\",\"event\":\"E\"}"),
                400,
                "duplicate_key",
                -1,
                "userId");
        assertRejected(
                post(
                        collector.url("/v1/track"),
                        "{\"userId\":\"u\",\"event\":\"E\",\"properties\":{\"p\":1,\"p\":2}}",
                        "Authorization",
                        AUTH),
                400,
                "duplicate_key",
                -1,
                "p");
    }

    @Test
    void d6_negativeAndFiveDigitYearsAreRefusedNotRewritten() {
        for (String year : List.of(
                "-0005-06-01T00:00:00Z",
                "-999999999-01-01T00:00:00Z",
                "+10000-01-01T00:00:00Z",
                "0000-06-01T00:00:00Z",
                "0001-01-01T00:30:00+01:00")) {
            assertRejected(
                    batch("{\"type\":\"track\",\"userId\":\"u\",\"event\":\"E\",\"timestamp\":\"" + year + "\"}"),
                    400,
                    "invalid_timestamp",
                    0,
                    "'timestamp'");
        }
        String id = UUID.randomUUID().toString();
        assertAccepted(
                batch("{\"type\":\"track\",\"userId\":\"u\",\"event\":\"E\",\"messageId\":\"" + id
                        + "\",\"timestamp\":\"0001-01-01T00:00:00Z\"}"),
                id);
    }

    @Test
    void d7_invalidUtf8AndLoneSurrogatesAreRefused() {
        byte[][] bad = {
            {(byte) 0xC0, (byte) 0xAF}, // overlong "/"
            {(byte) 0xE0, (byte) 0x80, (byte) 0xAF}, // overlong, 3 bytes
            {(byte) 0xED, (byte) 0xA0, (byte) 0x80}, // an encoded surrogate
            {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80}, // above U+10FFFF
            {(byte) 0x80},
            {(byte) 0xFF},
            {(byte) 0xC3}, // stray continuation, invalid byte, truncated sequence
        };
        for (byte[] b : bad) {
            byte[] body = RawHttp.concat("{\"userId\":\"".getBytes(), b, "\",\"event\":\"E\"}".getBytes());
            assertRejected(
                    post(collector.url("/v1/track"), body, "Authorization", AUTH), 400, "invalid_utf8", -1, "UTF-8");
        }
        for (String escape : List.of("\\ud800", "\\udc00", "\\ud800x", "\\ud800\\u0041", "\\uDBFF\\uDBFF")) {
            assertRejected(
                    post(
                            collector.url("/v1/track"),
                            "{\"userId\":\"" + escape + "\",\"event\":\"E\"}",
                            "Authorization",
                            AUTH),
                    400,
                    "lone_surrogate",
                    -1,
                    "surrogate");
        }
        // UTF-16 is not UTF-8 either
        assertRejected(
                post(
                        collector.url("/v1/track"),
                        "{\"userId\":\"u\",\"event\":\"E\"}".getBytes(StandardCharsets.UTF_16LE),
                        "Authorization",
                        AUTH),
                400,
                "invalid_utf8",
                -1,
                "UTF-8");
        // what is valid stays exactly as sent, and users keep their own keys
        String id = UUID.randomUUID().toString();
        assertAccepted(
                post(
                        collector.url("/v1/track"),
                        "{\"userId\":\"\\ud83d\\ude00 \\\\ud800 ü😀\",\"event\":\"E\",\"messageId\":\"" + id + "\"}",
                        "Authorization",
                        AUTH),
                id);
        ConsumerRecord<String, String> record =
                TopicReader.read(collector.bootstrapServers(), collector.topic(), 1, Duration.ofSeconds(30)).stream()
                        .filter(r -> r.value().contains(id))
                        .findFirst()
                        .orElseThrow();
        assertThat(record.key()).isEqualTo("web:😀 \\ud800 ü😀");
        assertThat(TopicReader.json(record.value()).get("userId").asText()).isEqualTo("😀 \\ud800 ü😀");
    }

    @Test
    void d8_numbersADoubleCannotHoldAreRefused() {
        for (String number : List.of("1e400", "-1e400", "1e-400", "-2.5E-999", "0.0000001e-330")) {
            assertRejected(
                    post(
                            collector.url("/v1/track"),
                            "{\"userId\":\"u\",\"event\":\"E\",\"properties\":{\"n\":" + number + "}}",
                            "Authorization",
                            AUTH),
                    400,
                    "invalid_number",
                    -1,
                    number);
        }
        String id = UUID.randomUUID().toString();
        assertAccepted(
                post(
                        collector.url("/v1/track"),
                        "{\"userId\":\"u\",\"event\":\"E\",\"messageId\":\"" + id
                                + "\",\"properties\":{\"zero\":0.0,\"zeroExp\":0e-400,\"big\":123456789012345678901234567890,\"small\":4.9e-324}}",
                        "Authorization",
                        AUTH),
                id);
    }

    @Test
    void d9_truncatedPlainBodiesAndBadChunksAreNotReportedAsGzip() {
        String url = collector.url("/v1/track");
        double gzipBefore = metric("sluice_collector_rejected_events_total{reason=\"invalid_gzip\"}");
        byte[] truncated = RawHttp.concat(
                RawHttp.head("POST", url, "Authorization", AUTH, "Content-Length", "100"),
                "{\"userId\":\"u\",".getBytes());
        assertRawRejected(RawHttp.exchange(url, truncated, true, 5000), 400, "truncated_body");
        byte[] badChunk = RawHttp.concat(
                RawHttp.head("POST", url, "Authorization", AUTH, "Transfer-Encoding", "chunked"),
                "5\r\n{\"use\r\nZZ\r\nrId\":\"u\"}\r\n0\r\n\r\n".getBytes());
        RawHttp.Response response = RawHttp.exchange(url, badChunk, false, 5000);
        assertThat(response.status()).isEqualTo(400);
        assertThat(TopicReader.json(response.body()).get("rule").asText())
                .as(response.body())
                .isIn("truncated_body", "invalid_framing", "bad_request");
        assertThat(metric("sluice_collector_rejected_events_total{reason=\"invalid_gzip\"}"))
                .isEqualTo(gzipBefore);
        assertThat(metric("sluice_collector_rejected_events_total{reason=\"truncated_body\"}"))
                .isGreaterThanOrEqualTo(1);
    }

    @Test
    void d10_aGzipBodyShorterThanItsContentLengthIsRefused() {
        String url = collector.url("/v1/batch");
        byte[] gzip = Http.gzip(("{\"batch\":[" + valid(UUID.randomUUID().toString()) + "]}").getBytes());
        byte[] request = RawHttp.concat(
                RawHttp.head(
                        "POST",
                        url,
                        "Authorization",
                        AUTH,
                        "Content-Encoding",
                        "gzip",
                        "Content-Length",
                        Integer.toString(gzip.length * 2)),
                gzip);
        assertRawRejected(RawHttp.exchange(url, request, true, 5000), 400, "truncated_body");
    }

    @Test
    void d11_aBatchLevelSentAtIsValidatedLikeAnEventLevelOne() {
        assertRejected(
                post(
                        collector.url("/v1/batch"),
                        "{\"sentAt\":\"yesterday\",\"batch\":[" + valid("s") + "]}",
                        "Authorization",
                        AUTH),
                400,
                "invalid_timestamp",
                -1,
                "'sentAt'");
        assertRejected(
                post(
                        collector.url("/v1/batch"),
                        "{\"sentAt\":\"+20000-01-01T00:00:00Z\",\"batch\":[" + valid("s") + "]}",
                        "Authorization",
                        AUTH),
                400,
                "invalid_timestamp",
                -1,
                "'sentAt'");
        assertRejected(
                post(
                        collector.url("/v1/batch"),
                        "{\"sentAt\":17,\"batch\":[" + valid("s") + "]}",
                        "Authorization",
                        AUTH),
                400,
                "invalid_field_type",
                -1,
                "'sentAt'");
    }

    @Test
    void minor_wrongMethodsProtocolErrorsAndGzipHeaderFieldsAreJson() {
        var get = Http.request("GET", collector.url("/v1/track"));
        assertThat(get.statusCode()).isEqualTo(405);
        assertJsonRule(get.headers().firstValue("Content-Type").orElse(""), get.body(), "method_not_allowed");
        var missing = Http.request("POST", collector.url("/v2/nothing"));
        assertThat(missing.statusCode()).isEqualTo(404);
        assertJsonRule(missing.headers().firstValue("Content-Type").orElse(""), missing.body(), "not_found");

        String url = collector.url("/v1/track");
        assertRawRejected(
                RawHttp.exchange(
                        url,
                        ("POST /v1/track?" + "q".repeat(20_000) + " HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(),
                        false,
                        5000),
                414,
                "uri_too_long");
        assertRawRejected(
                RawHttp.exchange(
                        url,
                        ("POST /v1/track HTTP/1.1\r\nHost: x\r\nX-Big: " + "h".repeat(20_000) + "\r\n\r\n").getBytes(),
                        false,
                        5000),
                431,
                "headers_too_large");
        assertRawRejected(
                RawHttp.exchange(url, "POST /v1/track HTTP/7.0\r\nHost: x\r\n\r\n".getBytes(), false, 5000),
                505,
                "http_version_not_supported");
        assertRawRejected(
                RawHttp.exchange(url, "\u0001\u0002garbage\r\n\r\n".getBytes(), false, 5000), 400, "bad_request");
        assertThat(Http.get(collector.adminUrl("/metrics")).body())
                .contains("sluice_http_errors_total{rule=\"headers_too_large\",server=\"collector\",status=\"431\"}")
                .contains("sluice_http_errors_total{rule=\"method_not_allowed\",server=\"collector\",status=\"405\"}");

        byte[] json = ("{\"batch\":[" + valid("g") + "]}").getBytes();
        byte[] longName = Gzip.member(json, "n".repeat(2000).getBytes(), null, null, false, false);
        assertRejected(
                post(collector.url("/v1/batch"), longName, "Authorization", AUTH, "Content-Encoding", "gzip"),
                400,
                "invalid_gzip",
                -1,
                "file name");
        byte[] longComment = Gzip.member(json, null, "c".repeat(2000).getBytes(), null, false, false);
        assertRejected(
                post(collector.url("/v1/batch"), longComment, "Authorization", AUTH, "Content-Encoding", "gzip"),
                400,
                "invalid_gzip",
                -1,
                "comment");
        byte[] wrongCrc = Gzip.member(json, null, null, null, false, true);
        assertRejected(
                post(collector.url("/v1/batch"), wrongCrc, "Authorization", AUTH, "Content-Encoding", "gzip"),
                400,
                "invalid_gzip",
                -1,
                "CRC");
        byte[] trailing = RawHttp.concat(Gzip.member(json), "junk".getBytes());
        assertRejected(
                post(collector.url("/v1/batch"), trailing, "Authorization", AUTH, "Content-Encoding", "gzip"),
                400,
                "invalid_gzip",
                -1,
                "gzip");
        String id = UUID.randomUUID().toString();
        byte[] allFields = Gzip.member(
                ("{\"batch\":[" + valid(id) + "]}").getBytes(),
                "events.json".getBytes(),
                "from a test".getBytes(),
                new byte[] {'S', 'l', 2, 0, 1, 2},
                true,
                false);
        assertAccepted(
                post(collector.url("/v1/batch"), allFields, "Authorization", AUTH, "Content-Encoding", "gzip"), id);
    }

    @Test
    @Order(Integer.MAX_VALUE)
    void kafkaHoldsExactlyTheAcceptedEvents() {
        String sentinel = UUID.randomUUID().toString();
        assertAccepted(batch(valid(sentinel)), sentinel);
        List<JsonNode> events =
                TopicReader.readEvents(collector.bootstrapServers(), collector.topic(), accepted.size());
        assertThat(events).extracting(e -> e.get("messageId").asText()).containsExactlyInAnyOrderElementsOf(accepted);
        assertThat(logs.errors()).as("nothing above WARN was logged").isEmpty();
        assertThat(Http.get(collector.adminUrl("/ready")).statusCode()).isEqualTo(200);
    }

    /** A sample's value from /metrics, 0 when absent. */
    static double metric(String series) {
        return Http.get(collector.adminUrl("/metrics"))
                .body()
                .lines()
                .filter(l -> l.startsWith(series + " "))
                .mapToDouble(
                        l -> Double.parseDouble(l.substring(series.length() + 1).trim()))
                .sum();
    }

    static String valid(String messageId) {
        return "{\"type\":\"track\",\"userId\":\"u\",\"event\":\"E\",\"messageId\":\"" + messageId + "\"}";
    }

    private static HttpResponse<String> batch(String events) {
        return post(collector.url("/v1/batch"), "{\"batch\":[" + events + "]}", "Authorization", AUTH);
    }

    private static void assertAccepted(HttpResponse<String> response, String messageId) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        accepted.add(messageId);
    }

    static void assertRejected(HttpResponse<String> response, int status, String rule, int index, String mentioned) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        assertJsonRule(response.headers().firstValue("Content-Type").orElse(""), response.body(), rule);
        JsonNode body = TopicReader.json(response.body());
        assertThat(body.get("error").asText()).contains(mentioned);
        if (index >= 0) assertThat(body.get("index").asInt()).isEqualTo(index);
        else assertThat(body.has("index")).isFalse();
    }

    private static void assertRawRejected(RawHttp.Response response, int status, String rule) {
        assertThat(response.status()).as(response.body()).isEqualTo(status);
        assertJsonRule(String.valueOf(response.header("Content-Type")), response.body(), rule);
    }

    private static void assertJsonRule(String contentType, String body, String rule) {
        assertThat(contentType).startsWith("application/json");
        JsonNode json = TopicReader.json(body);
        assertThat(json.get("success").asBoolean(true)).isFalse();
        assertThat(json.get("rule").asText()).as(body).isEqualTo(rule);
        assertThat(json.get("error").asText()).isNotBlank();
    }
}
