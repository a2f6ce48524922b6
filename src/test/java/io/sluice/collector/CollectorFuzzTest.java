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
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Property-based fuzzing of the collector over real HTTP into a real broker (issue #12): malformed and edge JSON,
 * timestamps, encodings, gzip streams and HTTP framing. For every request: the status is one of 200, 400, 401,
 * 405, 413, 429, 503 with a JSON body. After each property: Kafka holds exactly the events of the accepted
 * requests (so nothing of a rejected one), the collector is still ready, and nothing above WARN was logged.
 *
 * <p>Inputs come from a seeded generator (plain JUnit dynamic tests; see docs/decisions.md for why not jqwik): each
 * try is named with its seed, and {@code -Dfuzz.seed=N} replays a run. Tries are bounded so the whole suite takes
 * seconds; inputs of failures found are kept as regression cases in HostileInputTest.
 */
class CollectorFuzzTest {
    static final Set<Integer> ALLOWED = Set.of(200, 400, 401, 405, 413, 429, 503);
    static final String AUTH = basic(TestCollector.WRITE_KEY);
    static final ObjectMapper JSON = new ObjectMapper();
    static final long SEED = Long.getLong("fuzz.seed", 20261201L);
    static final AtomicInteger sequence = new AtomicInteger();
    /** messageId → how many records it must have in Kafka ("" stands for ids the collector generated). */
    static final Map<String, Integer> expected = new HashMap<>();

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

    // ---- properties -------------------------------------------------------------------------------------------

    @TestFactory
    Stream<DynamicTest> mutatedJsonBodies() {
        return tries("json", 120, r -> {
            boolean batch = r.nextBoolean();
            byte[] body = jsonBody(r);
            send(batch ? "/v1/batch" : "/v1/track", batch ? wrapBatch(body) : body, false);
        });
    }

    @TestFactory
    Stream<DynamicTest> timestamps() {
        return tries("timestamps", 80, r -> {
            String timestamp = timestamp(r);
            String sentAt = timestamp(r);
            boolean batchLevel = r.nextBoolean();
            String id = nextId();
            String event =
                    "{\"type\":\"track\",\"userId\":\"u\",\"event\":\"E\",\"messageId\":\"" + id + "\",\"timestamp\":\""
                            + timestamp + "\"" + (batchLevel ? "" : ",\"sentAt\":\"" + sentAt + "\"") + "}";
            String body = "{" + (batchLevel ? "\"sentAt\":\"" + sentAt + "\"," : "") + "\"batch\":[" + event + "]}";
            RawHttp.Response response = send("/v1/batch", body.getBytes(StandardCharsets.UTF_8), false);
            assertThat(response.status()).as(body).isIn(200, 400);
        });
    }

    @TestFactory
    Stream<DynamicTest> gzipStreams() {
        return tries("gzip", 80, r -> send("/v1/batch", gzipBody(r), true));
    }

    @TestFactory
    Stream<DynamicTest> httpFraming() {
        return tries("framing", 60, r -> {
            byte[] request = framing(r);
            RawHttp.Response response = RawHttp.exchange(collector.url("/v1/track"), request, true, 15_000);
            assertThat(response.status())
                    .as(new String(request, StandardCharsets.ISO_8859_1))
                    .isIn(ALLOWED.toArray(Integer[]::new));
            assertJson(response);
            if (response.status() == 200) expect(bodyOf(request), false, false);
        });
    }

    /** {@code count} tries, each with its own generator seeded from the run's seed, the property and the index. */
    private static Stream<DynamicTest> tries(String property, int count, Consumer<SplittableRandom> body) {
        return IntStream.range(0, count).mapToObj(i -> {
            long seed = SEED * 31 + property.hashCode() * 1_000_003L + i;
            return DynamicTest.dynamicTest(
                    property + " #" + i + " (seed " + seed + ")", () -> body.accept(new SplittableRandom(seed)));
        });
    }

    @AfterEach
    void invariantsHold() throws Exception {
        assertThat(Http.get(collector.adminUrl("/ready")).statusCode()).isEqualTo(200);
        int total = expected.values().stream().mapToInt(Integer::intValue).sum();
        List<JsonNode> events = TopicReader.readEvents(collector.bootstrapServers(), collector.topic(), total);
        Map<String, Integer> actual = new HashMap<>();
        for (JsonNode event : events) {
            String id = event.get("messageId").asText();
            actual.merge(id.startsWith("sluice-") ? "" : id, 1, Integer::sum);
        }
        assertThat(actual)
                .as("Kafka holds exactly the accepted requests' events")
                .isEqualTo(expected);
        assertThat(logs.errors()).as("nothing above WARN").isEmpty();
    }

    // ---- requests and bookkeeping -----------------------------------------------------------------------------

    private static RawHttp.Response send(String path, byte[] body, boolean gzip) {
        String url = collector.url(path);
        byte[] head = gzip
                ? RawHttp.head(
                        "POST",
                        url,
                        "Authorization",
                        AUTH,
                        "Content-Encoding",
                        "gzip",
                        "Content-Length",
                        Integer.toString(body.length))
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
                expected.merge(
                        id != null && id.isTextual() && !id.asText().isEmpty() ? id.asText() : "", 1, Integer::sum);
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

    private static <T> T oneOf(SplittableRandom r, List<T> values) {
        return values.get(r.nextInt(values.size()));
    }

    /** Up to {@code max} chars: ASCII, Latin-1 (control characters included) or any BMP character but surrogates. */
    private static String text(SplittableRandom r, int max, char ceiling) {
        StringBuilder out = new StringBuilder();
        for (int i = r.nextInt(max + 1); i > 0; i--) {
            char c = (char) r.nextInt(ceiling + 1);
            out.append(Character.isSurrogate(c) ? 'x' : c);
        }
        return out.toString();
    }

    /** A valid event with edge values, then maybe mutated: bytes flipped, cut, duplicated keys, bad UTF-8 or numbers. */
    static byte[] jsonBody(SplittableRandom r) {
        String text = switch (r.nextInt(3)) {
            case 0 -> text(r, 12, '\uffff');
            case 1 -> text(r, 8, '\u00ff');
            default ->
                oneOf(r, List.of("😀", "\\ud83d\\ude00", "\\ud800", "\\udc00", "\\\\ud800", "ü", "\\u0000", "\\\""));
        };
        String number = switch (r.nextInt(3)) {
            case 0 ->
                oneOf(
                        r,
                        List.of(
                                "1e400",
                                "-1e400",
                                "1e-400",
                                "0e-400",
                                "0.0",
                                "-0",
                                "4.9e-324",
                                "1.7976931348623157e308",
                                "123456789012345678901234567890",
                                "1E+2",
                                "01",
                                "1.",
                                ".5",
                                "NaN",
                                "Infinity"));
            case 1 -> Double.toString(Double.longBitsToDouble(r.nextLong()));
            default -> Long.toString(r.nextLong());
        };
        String type = oneOf(r, List.of("track", "identify", "page", "alias", "bogus"));
        String event = "{\"type\":\"" + type + "\",\"userId\":\"" + text + "\",\"event\":\"E\",\"previousId\":\"p\","
                + "\"messageId\":\"" + nextId() + "\",\"properties\":{\"n\":" + number + ",\"s\":\"" + text + "\"}}";
        return mutate(event.getBytes(StandardCharsets.UTF_8), r.nextInt(7), r.nextInt(1_001), r.nextInt(256));
    }

    static byte[] mutate(byte[] b, int mutation, int position, int value) {
        int at = b.length == 0 ? 0 : position % b.length;
        return switch (mutation) {
            case 1 -> {
                byte[] c = b.clone();
                c[at] = (byte) value;
                yield c;
            } // replace a byte
            case 2 -> Arrays.copyOf(b, at); // truncate
            case 3 ->
                RawHttp.concat(Arrays.copyOf(b, at), new byte[] {(byte) value}, Arrays.copyOfRange(b, at, b.length));
            case 4 ->
                new String(b, StandardCharsets.UTF_8)
                        .replaceFirst("\\{", "{\"event\":\"dup\",")
                        .getBytes(StandardCharsets.UTF_8);
            case 5 ->
                RawHttp.concat(
                        Arrays.copyOf(b, at),
                        new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80},
                        Arrays.copyOfRange(b, at, b.length));
            default -> b;
        };
    }

    static String timestamp(SplittableRandom r) {
        if (r.nextInt(6) == 0) {
            return oneOf(r, List.of("yesterday", "", "2026-03-01", "2026-03-01 12:00:00Z", "2026-03-01T12:00:00.000Z"));
        }
        String year = r.nextBoolean()
                ? String.format("%04d", r.nextInt(10_000))
                : oneOf(r, List.of("-0005", "+10000", "-999999999", "+999999999", "0000", "10000", "99999"));
        return year
                + String.format("-%02d-%02dT%02d:%02d:00", r.nextInt(14), r.nextInt(33), r.nextInt(26), r.nextInt(62))
                + oneOf(r, List.of("", ".1", ".123", ".123456789", ".1234567890"))
                + oneOf(r, List.of("Z", "", "+01:00", "-18:00", "+25:00", "z"));
    }

    /** Valid gzip of a valid batch, with header fields, several members, corrupt trailers, cuts and trailing junk. */
    static byte[] gzipBody(SplittableRandom r) {
        int members = r.nextInt(41);
        int fieldLength = r.nextInt(2_001);
        int fault = r.nextInt(9);
        int position = r.nextInt(100_001);
        int value = r.nextInt(256);
        byte[] json = ("{\"batch\":[{\"type\":\"identify\",\"userId\":\"g\",\"messageId\":\"" + nextId() + "\"}]}")
                .getBytes();
        byte[] field = "f".repeat(fieldLength).getBytes();
        byte[] last = switch (fault) {
            case 1 -> Gzip.member(json, field, null, null, false, false);
            case 2 -> Gzip.member(json, null, field, null, true, false);
            case 3 -> Gzip.member(json, null, null, Arrays.copyOf(field, Math.min(field.length, 1500)), false, false);
            case 4 -> Gzip.member(json, null, null, null, false, true);
            default -> Gzip.member(json);
        };
        byte[] body = RawHttp.concat(Gzip.repeat(Gzip.member(new byte[0]), members), last);
        return switch (fault) {
            case 5 -> Arrays.copyOf(body, position % body.length);
            case 6 -> RawHttp.concat(body, new byte[] {(byte) value});
            case 7 -> mutate(body, 1, position, value);
            default -> body;
        };
    }

    /** HTTP/1.1 requests with broken framing: wrong lengths, bad chunks, conflicting headers. */
    static byte[] framing(SplittableRandom r) {
        int kind = r.nextInt(8);
        int delta = r.nextInt(11) - 5;
        String chunk = oneOf(r, List.of("0", "ZZ", "-1", "fffffffffffff", "3;ext=1", ""));
        String url = collector.url("/v1/track");
        byte[] body = ("{\"userId\":\"h\",\"event\":\"E\",\"messageId\":\"" + nextId() + "\"}").getBytes();
        String length = Integer.toString(Math.max(0, body.length + delta));
        return switch (kind) {
            case 0 -> RawHttp.concat(RawHttp.head("POST", url, "Authorization", AUTH, "Content-Length", length), body);
            case 1 ->
                RawHttp.concat(
                        RawHttp.head("POST", url, "Authorization", AUTH, "Transfer-Encoding", "chunked"),
                        (Integer.toHexString(body.length) + "\r\n").getBytes(),
                        body,
                        ("\r\n" + chunk + "\r\n\r\n").getBytes());
            case 2 ->
                RawHttp.concat(
                        RawHttp.head("POST", url, "Authorization", AUTH, "Transfer-Encoding", "chunked"),
                        (chunk + "\r\n").getBytes(),
                        body,
                        "\r\n0\r\n\r\n".getBytes());
            case 3 ->
                RawHttp.concat(
                        RawHttp.head(
                                "POST", url, "Authorization", AUTH, "Content-Length", length, "Content-Length", "3"),
                        body);
            case 4 ->
                RawHttp.concat(
                        RawHttp.head(
                                "POST",
                                url,
                                "Authorization",
                                AUTH,
                                "Content-Length",
                                length,
                                "Transfer-Encoding",
                                "chunked"),
                        body);
            case 5 ->
                RawHttp.concat(
                        RawHttp.head("POST", url, "Authorization", AUTH, "Content-Length", "99999999999999999999"),
                        body);
            case 6 -> RawHttp.concat(RawHttp.head("GET", url, "Authorization", AUTH, "Content-Length", length), body);
            default ->
                RawHttp.concat(RawHttp.head("POST", url, "Authorization", AUTH, "Content-Length", "-" + length), body);
        };
    }
}
