package io.sluice.collector;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.collector.EventEnricher.RequestFacts;
import io.sluice.collector.EventPublisher.OutgoingEvent;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The spliced records ({@link RecordWriter}, no tree) against the tree-based ones ({@link EventEnricher} and
 * Jackson's serialiser), on many generated requests: the same JSON (compared as trees, so field order and escapes
 * may differ), the same Kafka keys and the same stored-size figures within what whitespace and escapes explain,
 * and the same refusal (status, rule, index, message) when a request is refused.
 */
class RecordWriterTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Reads the spliced records: a key written twice fails here instead of hiding behind the last one. */
    private static final ObjectMapper STRICT = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    private static final Instant RECEIVED = Instant.parse("2026-03-01T12:00:00.123Z");
    private static final long SEED = Long.getLong("records.seed", 20261202L);

    private final RequestParser parser = new RequestParser(JSON, 2500);
    private final EventRecords records = new EventRecords(JSON, new EventValidator(32 * 1024), 4 * 500 * 1024);

    @Test
    void splicedRecordsEqualTheTreeBasedOnes() throws Exception {
        SplittableRandom r = new SplittableRandom(SEED);
        int accepted = 0, refused = 0;
        for (int i = 0; i < 3000; i++) {
            boolean batch = r.nextInt(3) != 0;
            List<String> events = new ArrayList<>();
            int n = batch ? 1 + r.nextInt(6) : 1;
            for (int k = 0; k < n; k++) events.add(RandomEvents.event(r, batch));
            String batchSentAt = batch && r.nextBoolean() ? RandomEvents.timestamp(r) : null;
            String batchContext = batch && r.nextInt(3) == 0 ? RandomEvents.context(r) : null;
            String body = batch ? batchBody(events, batchSentAt, batchContext) : events.get(0);
            String clientIp = switch (r.nextInt(4)) {
                case 0 -> null;
                case 1 -> "203.0.113.9";
                case 2 -> "2001:db8::1";
                default -> "we\"ird\\ip\u00e9";
            };
            EventType pathType = batch ? null : EventType.values()[r.nextInt(EventType.values().length)];
            if (compare(body.getBytes(StandardCharsets.UTF_8), batch, pathType, clientIp)) accepted++;
            else refused++;
        }
        // the generator must exercise both outcomes substantially
        assertThat(accepted).isGreaterThan(1000);
        assertThat(refused).isGreaterThan(100);
    }

    @Test
    void edgeCases() throws Exception {
        String[] events = {
            // the client's receivedAt, sentAt, sourceId, writeKey, originalTimestamp are replaced or removed
            "{\"type\":\"track\",\"userId\":\"u\",\"event\":\"E\",\"receivedAt\":\"1999-01-01T00:00:00Z\","
                    + "\"sentAt\":\"2026-03-01T11:00:10Z\",\"timestamp\":\"2026-03-01T11:00:00.000Z\","
                    + "\"originalTimestamp\":\"2020-01-01T00:00Z\",\"sourceId\":\"evil\",\"writeKey\":\"secret\"}",
            // no timestamp: receivedAt is used and the client's originalTimestamp stays
            "{\"type\":\"identify\",\"anonymousId\":\"a\",\"originalTimestamp\":\"2026-01-01T00:00:00Z\"}",
            // nested context without and with ip, ip null, empty context, context null
            "{\"type\":\"page\",\"userId\":7,\"context\":{\"library\":{\"name\":\"x\"}}}",
            "{\"type\":\"page\",\"userId\":\"u\",\"context\":{\"ip\":\"1.2.3.4\",\"a\":1}}",
            "{\"type\":\"page\",\"userId\":\"u\",\"context\":{\"ip\":null}}",
            "{\"type\":\"page\",\"userId\":\"u\",\"context\":{}}",
            "{\"type\":\"page\",\"userId\":\"u\",\"context\":null,\"messageId\":null}",
            // unicode escapes, escaped quotes, whitespace everywhere, big numbers, a numeric anonymousId
            " { \"type\" : \"track\" , \"anonymousId\" : 123456789012345678901234567890 , \"event\" : \"\\u00e9v\\\"\" ,"
                    + " \"properties\" : { \"s\" : \"\\ud83d\\ude00 \\/ \\n\" , \"d\" : 1.50e2 , \"i\" : -0 } ,"
                    + " \"timestamp\" : \"2026-03-01T11:00:00+02:00\" } ",
            "{\"type\":\"alias\",\"userId\":\"\",\"anonymousId\":\"a\",\"previousId\":5,\"messageId\":\"\"}",
            "{\"type\":\"group\",\"userId\":\"u\",\"groupId\":\"g\",\"traits\":{\"n\":[1,{\"a\":[]}]},\"integrations\":{}}",
        };
        for (String event : events) {
            for (String ip : new String[] {null, "10.0.0.1"}) {
                EventType type =
                        EventType.fromWire(JSON.readTree(event).get("type").asText());
                assertThat(compare(event.getBytes(StandardCharsets.UTF_8), false, type, ip))
                        .as(event)
                        .isTrue();
                for (String context :
                        new String[] {null, "{\"ip\":\"9.9.9.9\",\"library\":{\"v\":1,\"name\":\"b\"}}"}) {
                    String body = batchBody(List.of(event, event), "2026-03-01T11:00:10.5Z", context);
                    assertThat(compare(body.getBytes(StandardCharsets.UTF_8), true, null, ip))
                            .as(body)
                            .isTrue();
                }
            }
        }
    }

    /** Both paths on one request; true if it was accepted. */
    private boolean compare(byte[] body, boolean batch, EventType pathType, String clientIp) throws Exception {
        String what = new String(body, StandardCharsets.UTF_8) + " ip=" + clientIp;
        ParsedRequest request;
        try {
            request = batch ? parser.parseBatch(body) : parser.parseSingle(body);
        } catch (Rejection parseError) {
            return false; // refused before either path: nothing to compare
        }
        RequestFacts facts = new RequestFacts("web\"src", RECEIVED, request.sentAt(), request.context(), clientIp);
        List<OutgoingEvent> spliced = null, trees = null;
        Rejection splicedError = null, treeError = null;
        try {
            spliced = records.spliced(request, pathType, facts, null);
        } catch (Rejection e) {
            splicedError = e;
        }
        // a fresh parse for the tree path, so that nothing one path does to the request can reach the other
        ParsedRequest again = batch ? parser.parseBatch(body) : parser.parseSingle(body);
        RequestFacts facts2 = new RequestFacts("web\"src", RECEIVED, again.sentAt(), again.context(), clientIp);
        try {
            trees = records.fromTrees(again, pathType, facts2, null, null, null);
        } catch (Rejection e) {
            treeError = e;
        }
        if (treeError != null || splicedError != null) {
            assertThat(splicedError).as(what).isNotNull();
            assertThat(treeError).as(what).isNotNull();
            assertThat(splicedError.status()).as(what).isEqualTo(treeError.status());
            assertThat(splicedError.rule()).as(what).isEqualTo(treeError.rule());
            assertThat(splicedError.index()).as(what).isEqualTo(treeError.index());
            assertThat(splicedError.getMessage()).as(what).isEqualTo(treeError.getMessage());
            return false;
        }
        assertThat(spliced).as(what).hasSameSizeAs(trees);
        for (int i = 0; i < trees.size(); i++) {
            JsonNode expected = JSON.readTree(trees.get(i).value());
            JsonNode actual = STRICT.readTree(spliced.get(i).value());
            assertThat(actual).as("no duplicate key in " + what).isNotNull();
            String treeId = expected.get("messageId").asText();
            String splicedId = actual.get("messageId").asText();
            if (treeId.startsWith("sluice-") && !treeId.equals(splicedId)) {
                assertThat(splicedId).as(what).startsWith("sluice-").hasSize(treeId.length());
                ((ObjectNode) actual).put("messageId", treeId);
            }
            assertThat(actual).as(what).isEqualTo(expected);
            assertThat(spliced.get(i).key()).as(what).isEqualTo(trees.get(i).key());
        }
        return true;
    }

    private static String batchBody(List<String> events, String sentAt, String context) {
        StringBuilder b = new StringBuilder("{");
        if (sentAt != null) b.append("\"sentAt\":\"").append(sentAt).append("\",");
        if (context != null) b.append("\"context\":").append(context).append(',');
        b.append("\"batch\":[").append(String.join(",", events)).append("]}");
        return b.toString();
    }
}
