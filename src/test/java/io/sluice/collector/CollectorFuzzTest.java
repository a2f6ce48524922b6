package io.sluice.collector;

import static io.sluice.support.Http.basic;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.support.Gzip;
import io.sluice.support.Http;
import io.sluice.support.LogCapture;
import io.sluice.support.RawHttp;
import io.sluice.support.TestCollector;
import io.sluice.support.TopicReader;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.GZIPInputStream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.AfterProperty;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Property-based fuzzing of the collector over real HTTP into a real broker (issue #12): malformed and edge JSON,
 * timestamps, encodings, gzip streams and HTTP framing. For every request: the status is one of 200, 400, 401,
 * 405, 413, 429, 503 with a JSON body. After each property: Kafka holds exactly the events of the accepted
 * requests (so nothing of a rejected one), the collector is still ready, and nothing above WARN was logged.
 * Tries are bounded so the whole suite takes seconds; seeds of failures found are kept in HostileInputTest.
 */
class CollectorFuzzTest {
    static final Set<Integer> ALLOWED = Set.of(200, 400, 401, 405, 413, 429, 503);
    static final String AUTH = basic(TestCollector.WRITE_KEY);
    static final ObjectMapper JSON = new ObjectMapper();
    static final AtomicInteger sequence = new AtomicInteger();
    /** messageId → how many records it must have in Kafka ("" stands for ids the collector generated). */
    static final Map<String, Integer> expected = new HashMap<>();
    static TestCollector collector;
    static LogCapture logs;

    @BeforeContainer
    static void start() {
        collector = TestCollector.start();
        logs = LogCapture.open();
    }

    @AfterContainer
    static void stop() {
        logs.close();
        collector.close();
    }

    // ---- properties -------------------------------------------------------------------------------------------

    @Property(tries = 120)
    void mutatedJsonBodies(@ForAll("jsonBodies") byte[] body, @ForAll boolean batch) {
        send(batch ? "/v1/batch" : "/v1/track", batch ? wrapBatch(body) : body, false);
    }

    @Property(tries = 80)
    void timestamps(@ForAll("timestamps") String timestamp, @ForAll("timestamps") String sentAt, @ForAll boolean batchLevel) {
        String id = nextId();
        String event = "{\"type\":\"track\",\"userId\":\"u\",\"event\":\"E\",\"messageId\":\"" + id + "\",\"timestamp\":\"" + timestamp + "\""
                + (batchLevel ? "" : ",\"sentAt\":\"" + sentAt + "\"") + "}";
        String body = "{" + (batchLevel ? "\"sentAt\":\"" + sentAt + "\"," : "") + "\"batch\":[" + event + "]}";
        RawHttp.Response response = send("/v1/batch", body.getBytes(StandardCharsets.UTF_8), false);
        assertThat(response.status()).isIn(200, 400);
    }

    @Property(tries = 80)
    void gzipStreams(@ForAll("gzipBodies") byte[] body) {
        send("/v1/batch", body, true);
    }

    @Property(tries = 60)
    void httpFraming(@ForAll("framings") byte[] request) {
        RawHttp.Response response = RawHttp.exchange(collector.url("/v1/track"), request, true, 15_000);
        assertThat(response.status()).as(new String(request, StandardCharsets.ISO_8859_1)).isIn(ALLOWED.toArray(Integer[]::new));
        assertJson(response);
        if (response.status() == 200) expect(bodyOf(request), false, false);
    }

    @AfterProperty
    void invariantsHold() throws Exception {
        assertThat(Http.get(collector.adminUrl("/ready")).statusCode()).isEqualTo(200);
        int total = expected.values().stream().mapToInt(Integer::intValue).sum();
        List<JsonNode> events = TopicReader.readEvents(collector.bootstrapServers(), collector.topic(), total);
        Map<String, Integer> actual = new HashMap<>();
        for (JsonNode event : events) {
            String id = event.get("messageId").asText();
            actual.merge(id.startsWith("sluice-") ? "" : id, 1, Integer::sum);
        }
        assertThat(actual).as("Kafka holds exactly the accepted requests' events").isEqualTo(expected);
        assertThat(logs.errors()).as("nothing above WARN").isEmpty();
    }

    // ---- requests and bookkeeping -----------------------------------------------------------------------------

    private static RawHttp.Response send(String path, byte[] body, boolean gzip) {
        String url = collector.url(path);
        byte[] head = gzip ? RawHttp.head("POST", url, "Authorization", AUTH, "Content-Encoding", "gzip", "Content-Length", Integer.toString(body.length))
                : RawHttp.head("POST", url, "Authorization", AUTH, "Content-Length", Integer.toString(body.length));
        RawHttp.Response response = RawHttp.exchange(url, RawHttp.concat(head, body), false, 15_000);
        assertThat(response.status()).as(response.body()).isIn(ALLOWED.toArray(Integer[]::new));
        assertJson(response);
        if (response.status() == 200) expect(body, gzip, path.endsWith("batch"));
        return response;
    }

    private static void assertJson(RawHttp.Response response) {
        assertThat(response.header("Content-Type")).startsWith("application/json");
        JsonNode json = TopicReader.json(response.body());
        assertThat(json.get("success").asBoolean()).isEqualTo(response.status() == 200);
        if (response.status() != 200) assertThat(json.get("rule").asText()).isNotBlank();
    }

    /** Records the events of an accepted body: its messageIds, as a lenient reader sees them. */
    private static void expect(byte[] body, boolean gzip, boolean batch) {
        try {
            byte[] plain = gzip ? new GZIPInputStream(new ByteArrayInputStream(body)).readAllBytes() : body;
            JsonNode root = JSON.readTree(plain);
            List<JsonNode> events = new ArrayList<>();
            if (batch || root.has("batch")) root.get("batch").forEach(events::add);
            else events.add(root);
            for (JsonNode event : events) {
                JsonNode id = event.get("messageId");
                expected.merge(id != null && id.isTextual() && !id.asText().isEmpty() ? id.asText() : "", 1, Integer::sum);
            }
        } catch (Exception e) {
            throw new AssertionError("an accepted body could not be read back", e);
        }
    }

    private static byte[] bodyOf(byte[] request) {
        String text = new String(request, StandardCharsets.ISO_8859_1);
        String body = text.substring(text.indexOf("\r\n\r\n") + 4);
        // the one JSON object in it, whatever the framing around it (chunk sizes)
        return body.substring(body.indexOf('{'), body.lastIndexOf('}') + 1).getBytes(StandardCharsets.ISO_8859_1);
    }

    static String nextId() {
        return "fz-" + sequence.incrementAndGet();
    }

    private static byte[] wrapBatch(byte[] event) {
        return RawHttp.concat("{\"batch\":[".getBytes(), event, "]}".getBytes());
    }

    // ---- generators -------------------------------------------------------------------------------------------

    /** A valid event with edge values, then maybe mutated: bytes flipped, cut, duplicated keys, bad UTF-8 or numbers. */
    @Provide
    Arbitrary<byte[]> jsonBodies() {
        Arbitrary<String> strings = Arbitraries.oneOf(Arbitraries.strings().ofMaxLength(12),
                Arbitraries.strings().withCharRange('\u0000', '\u00ff').ofMaxLength(8),
                Arbitraries.of("😀", "\\ud83d\\ude00", "\\ud800", "\\udc00", "\\\\ud800", "ü", "\\u0000", "\\\""));
        Arbitrary<String> numbers = Arbitraries.oneOf(Arbitraries.of("1e400", "-1e400", "1e-400", "0e-400", "0.0", "-0", "4.9e-324",
                "1.7976931348623157e308", "123456789012345678901234567890", "1E+2", "01", "1.", ".5", "NaN", "Infinity"),
                Arbitraries.doubles().map(Object::toString), Arbitraries.longs().map(Object::toString));
        Arbitrary<String> events = Combinators.combine(strings, numbers, Arbitraries.of("track", "identify", "page", "alias", "bogus"))
                .as((text, number, type) -> "{\"type\":\"" + type + "\",\"userId\":\"" + text + "\",\"event\":\"E\",\"previousId\":\"p\","
                        + "\"messageId\":\"" + nextId() + "\",\"properties\":{\"n\":" + number + ",\"s\":\"" + text + "\"}}");
        return Combinators.combine(events, Arbitraries.integers().between(0, 6), Arbitraries.integers().between(0, 1_000),
                        Arbitraries.integers().between(0, 255))
                .as((event, mutation, position, value) -> mutate(event.getBytes(StandardCharsets.UTF_8), mutation, position, value));
    }

    static byte[] mutate(byte[] b, int mutation, int position, int value) {
        int at = b.length == 0 ? 0 : position % b.length;
        return switch (mutation) {
            case 1 -> { byte[] c = b.clone(); c[at] = (byte) value; yield c; } // replace a byte
            case 2 -> java.util.Arrays.copyOf(b, at); // truncate
            case 3 -> RawHttp.concat(java.util.Arrays.copyOf(b, at), new byte[] {(byte) value}, java.util.Arrays.copyOfRange(b, at, b.length));
            case 4 -> new String(b, StandardCharsets.UTF_8).replaceFirst("\\{", "{\"event\":\"dup\",").getBytes(StandardCharsets.UTF_8);
            case 5 -> RawHttp.concat(java.util.Arrays.copyOf(b, at), new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80}, java.util.Arrays.copyOfRange(b, at, b.length));
            default -> b;
        };
    }

    @Provide
    Arbitrary<String> timestamps() {
        Arbitrary<String> year = Arbitraries.oneOf(Arbitraries.integers().between(0, 9999).map(y -> String.format("%04d", y)),
                Arbitraries.of("-0005", "+10000", "-999999999", "+999999999", "0000", "10000", "99999"));
        Arbitrary<String> rest = Combinators.combine(Arbitraries.integers().between(0, 13), Arbitraries.integers().between(0, 32),
                        Arbitraries.integers().between(0, 25), Arbitraries.integers().between(0, 61),
                        Arbitraries.of("", ".1", ".123", ".123456789", ".1234567890"), Arbitraries.of("Z", "", "+01:00", "-18:00", "+25:00", "z"))
                .as((month, day, hour, minute, fraction, zone) -> String.format("-%02d-%02dT%02d:%02d:00", month, day, hour, minute) + fraction + zone);
        return Arbitraries.oneOf(Combinators.combine(year, rest).as(String::concat),
                Arbitraries.of("yesterday", "", "2026-03-01", "2026-03-01 12:00:00Z", "2026-03-01T12:00:00.000Z"));
    }

    /** Valid gzip of a valid batch, with header fields, several members, corrupt trailers, cuts and trailing junk. */
    @Provide
    Arbitrary<byte[]> gzipBodies() {
        return Combinators.combine(Arbitraries.integers().between(0, 40), Arbitraries.integers().between(0, 2000),
                        Arbitraries.integers().between(0, 8), Arbitraries.integers().between(0, 100_000), Arbitraries.integers().between(0, 255))
                .as((members, fieldLength, fault, position, value) -> {
                    byte[] json = ("{\"batch\":[{\"type\":\"identify\",\"userId\":\"g\",\"messageId\":\"" + nextId() + "\"}]}").getBytes();
                    byte[] field = "f".repeat(fieldLength).getBytes();
                    byte[] last = switch (fault) {
                        case 1 -> Gzip.member(json, field, null, null, false, false);
                        case 2 -> Gzip.member(json, null, field, null, true, false);
                        case 3 -> Gzip.member(json, null, null, java.util.Arrays.copyOf(field, Math.min(field.length, 1500)), false, false);
                        case 4 -> Gzip.member(json, null, null, null, false, true);
                        default -> Gzip.member(json);
                    };
                    byte[] body = RawHttp.concat(Gzip.repeat(Gzip.member(new byte[0]), members), last);
                    return switch (fault) {
                        case 5 -> java.util.Arrays.copyOf(body, position % body.length);
                        case 6 -> RawHttp.concat(body, new byte[] {(byte) (int) value});
                        case 7 -> mutate(body, 1, position, value);
                        default -> body;
                    };
                });
    }

    /** HTTP/1.1 requests with broken framing: wrong lengths, bad chunks, conflicting headers. */
    @Provide
    Arbitrary<byte[]> framings() {
        return Combinators.combine(Arbitraries.integers().between(0, 7), Arbitraries.integers().between(-5, 5), Arbitraries.of("0", "ZZ", "-1", "fffffffffffff", "3;ext=1", ""))
                .as((kind, delta, chunk) -> {
                    String url = collector.url("/v1/track");
                    byte[] body = ("{\"userId\":\"h\",\"event\":\"E\",\"messageId\":\"" + nextId() + "\"}").getBytes();
                    String length = Integer.toString(Math.max(0, body.length + delta));
                    return switch (kind) {
                        case 0 -> RawHttp.concat(RawHttp.head("POST", url, "Authorization", AUTH, "Content-Length", length), body);
                        case 1 -> RawHttp.concat(RawHttp.head("POST", url, "Authorization", AUTH, "Transfer-Encoding", "chunked"),
                                (Integer.toHexString(body.length) + "\r\n").getBytes(), body, ("\r\n" + chunk + "\r\n\r\n").getBytes());
                        case 2 -> RawHttp.concat(RawHttp.head("POST", url, "Authorization", AUTH, "Transfer-Encoding", "chunked"),
                                (chunk + "\r\n").getBytes(), body, "\r\n0\r\n\r\n".getBytes());
                        case 3 -> RawHttp.concat(RawHttp.head("POST", url, "Authorization", AUTH, "Content-Length", length, "Content-Length", "3"), body);
                        case 4 -> RawHttp.concat(RawHttp.head("POST", url, "Authorization", AUTH, "Content-Length", length, "Transfer-Encoding", "chunked"), body);
                        case 5 -> RawHttp.concat(RawHttp.head("POST", url, "Authorization", AUTH, "Content-Length", "99999999999999999999"), body);
                        case 6 -> RawHttp.concat(RawHttp.head("GET", url, "Authorization", AUTH, "Content-Length", length), body);
                        default -> RawHttp.concat(RawHttp.head("POST", url, "Authorization", AUTH, "Content-Length", "-" + length), body);
                    };
                });
    }
}
