package io.sluice.destination.webhook;

import static io.sluice.destination.webhook.Webhooks.batch;
import static io.sluice.destination.webhook.Webhooks.event;
import static io.sluice.destination.webhook.Webhooks.json;
import static io.sluice.destination.webhook.Webhooks.settings;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.config.SluiceConfig;
import io.sluice.destination.DeliveryBatch;
import io.sluice.destination.DeliveryReport;
import io.sluice.event.ExactEvent;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** What a receiver gets: bodies, headers, idempotency keys and signatures, in event and batch mode. */
class WebhookDeliveryTest {
    private final TestReceiver receiver = new TestReceiver();
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private WebhookDestination destination;

    @AfterEach
    void close() {
        if (destination != null) destination.close();
        receiver.close();
    }

    @Test
    void eventModePostsEachEventWithItsMessageIdAsIdempotencyKeyAndTheCustomHeaders() throws Exception {
        destination = Webhooks.destination(
                settings(receiver.url(), "headers: {X-Team: growth, X-Env: test}"), registry, Clock.systemUTC());
        List<ObjectNode> events = List.of(event("m1", "u1"), event("m2", "u2"), event("m3", "u1"));

        DeliveryReport report = destination.deliver(batch(events));

        assertThat(report.allDelivered()).isTrue();
        List<TestReceiver.Request> requests = receiver.requests();
        assertThat(requests).hasSize(3);
        for (TestReceiver.Request request : requests) {
            JsonNode body = json(request.body());
            assertThat(request.header("Idempotency-Key"))
                    .isEqualTo(body.path("messageId").asText());
            assertThat(request.header("Content-Type")).isEqualTo("application/json");
            assertThat(request.header("X-Team")).isEqualTo("growth");
            assertThat(request.header("X-Env")).isEqualTo("test");
            assertThat(request.header(WebhookSignature.SIGNATURE_HEADER))
                    .as("unsigned without a secret")
                    .isNull();
            assertThat(events).contains((ObjectNode) body);
        }
        assertThat(requests.stream().map(Webhooks::messageId)).containsExactlyInAnyOrder("m1", "m2", "m3");
        assertThat(registry.get("sluice.webhook.requests")
                        .tag("destination", "hooks")
                        .tag("outcome", "2xx")
                        .counter()
                        .count())
                .isEqualTo(3);
        assertThat(registry.get("sluice.webhook.latency")
                        .tag("destination", "hooks")
                        .timer()
                        .count())
                .isEqualTo(3);
    }

    @Test
    void batchModePostsArraysInOrderWithKeysStableAcrossDeliveriesOfTheSameBatch() throws Exception {
        destination = Webhooks.destination(
                settings(receiver.url(), "mode: batch", "maxBatchEvents: 10"), registry, Clock.systemUTC());
        List<ObjectNode> events = IntStream.range(0, 25)
                .mapToObj(i -> event("m" + i, "u" + i % 3))
                .toList();
        DeliveryBatch batch = batch(events);

        assertThat(destination.deliver(batch).allDelivered()).isTrue();
        assertThat(destination.deliver(batch).allDelivered())
                .as("a retry or replay of the same batch")
                .isTrue();

        List<TestReceiver.Request> requests = receiver.requests();
        assertThat(requests).hasSize(6);
        List<String> keys =
                requests.stream().map(r -> r.header("Idempotency-Key")).toList();
        String key = batch.idempotencyKey();
        assertThat(keys).containsExactly(key + "-0", key + "-1", key + "-2", key + "-0", key + "-1", key + "-2");
        List<JsonNode> arrays = requests.stream().map(r -> json(r.body())).toList();
        assertThat(arrays).allSatisfy(array -> assertThat(array.isArray()).isTrue());
        assertThat(arrays.stream().map(JsonNode::size)).containsExactly(10, 10, 5, 10, 10, 5);
        List<String> firstDelivery = arrays.subList(0, 3).stream()
                .flatMap(a -> IntStream.range(0, a.size())
                        .mapToObj(i -> a.get(i).path("messageId").asText()))
                .toList();
        assertThat(firstDelivery)
                .containsExactlyElementsOf(
                        events.stream().map(e -> e.path("messageId").asText()).toList());
        assertThat(arrays.get(3)).isEqualTo(arrays.get(0));
    }

    /**
     * messageIds a header cannot carry as they are (non-ASCII, newline, CR, NUL, bidi marks, a lone surrogate, 10 KB)
     * are delivered at once, each with its documented key (docs/webhooks.md "Idempotency keys"); the body is the event
     * as accepted, byte for byte.
     */
    @Test
    void hostileMessageIdsAreDeliveredWithEncodedIdempotencyKeysAndExactBodies() throws Exception {
        destination = Webhooks.destination(settings(receiver.url()), registry, Clock.systemUTC());
        String longId = "L".repeat(10_240);
        Map<String, String> keyOf = new LinkedHashMap<>();
        keyOf.put("plain-6f1c9a52", "plain-6f1c9a52");
        keyOf.put("caf\u00e9 \u975e", "caf%C3%A9%20%E9%9D%9E");
        keyOf.put("a\nb", "a%0Ab");
        keyOf.put("a\rb", "a%0Db");
        keyOf.put("a\u0000", "a%00");
        keyOf.put("a\\u0000", "a\\u0000");
        keyOf.put("\u200frtl\u202e", "%E2%80%8Frtl%E2%80%AE");
        keyOf.put("lone\ud800", "lone%ED%A0%80");
        keyOf.put("100%", "100%25");
        keyOf.put(
                longId,
                "%sha256:"
                        + HexFormat.of()
                                .formatHex(MessageDigest.getInstance("SHA-256")
                                        .digest(longId.getBytes(StandardCharsets.UTF_8))));
        List<byte[]> accepted = new ArrayList<>();
        List<ObjectNode> events = new ArrayList<>();
        int user = 0;
        for (String id : keyOf.keySet()) {
            byte[] json = ("{\"type\":\"track\", \"userId\":\"u" + user++ + "\",\"messageId\":" + quote(id)
                            + ",\"properties\":{\"price\":1.10,\"big\":1E2}}")
                    .getBytes(StandardCharsets.UTF_8);
            accepted.add(json);
            events.add(ExactEvent.of(json));
        }

        DeliveryReport report = destination.deliver(batch(events));

        assertThat(report.allDelivered()).as("nothing fails, nothing waits").isTrue();
        List<TestReceiver.Request> requests = receiver.requests();
        assertThat(requests).hasSize(keyOf.size());
        for (TestReceiver.Request request : requests) {
            int index = accepted.stream().map(Arrays::toString).toList().indexOf(Arrays.toString(request.body()));
            assertThat(index)
                    .as("the body is one accepted event, byte for byte")
                    .isNotNegative();
            assertThat(request.header("Idempotency-Key"))
                    .isEqualTo(keyOf.values().stream().toList().get(index));
        }
    }

    /** A JSON string literal as a client writes it: control characters and surrogates as escapes, the rest as is. */
    private static String quote(String text) {
        StringBuilder out = new StringBuilder("\"");
        for (char c : text.toCharArray()) {
            if (c == '"' || c == '\\') out.append('\\').append(c);
            else if (c < 0x20 || Character.isSurrogate(c)) out.append(String.format("\\u%04x", (int) c));
            else out.append(c);
        }
        return out.append('"').toString();
    }

    @Test
    void signedRequestsVerifyWithTheSharedSecretOnlyAndCarryAFreshTimestamp() throws Exception {
        destination = Webhooks.destination(
                settings(receiver.url(), "secret: s3cret-key", "mode: batch"), registry, Clock.systemUTC());
        destination.deliver(batch(List.of(event("m1", "u1"), event("m2", "u2"))));
        destination = reopen(settings(receiver.url(), "secret: s3cret-key"));
        destination.deliver(batch(List.of(event("m3", "u3"))));

        List<TestReceiver.Request> requests = receiver.requests();
        assertThat(requests).hasSize(2);
        for (TestReceiver.Request request : requests) {
            String timestamp = request.header("X-Sluice-Timestamp");
            String signature = request.header("X-Sluice-Signature");
            assertThat(signature).startsWith("sha256=");
            assertThat(Math.abs(Instant.now().getEpochSecond() - Long.parseLong(timestamp)))
                    .as("replay window")
                    .isLessThan(300);
            assertThat(verify("s3cret-key", timestamp, request.body(), signature))
                    .isTrue();
            assertThat(verify("wrong-secret", timestamp, request.body(), signature))
                    .isFalse();
            assertThat(verify("s3cret-key", String.valueOf(Long.parseLong(timestamp) - 1), request.body(), signature))
                    .as("the timestamp is signed")
                    .isFalse();
        }
    }

    /** A receiver's check, written from docs/webhooks.md: HMAC-SHA256 over "<timestamp>.<body>", hex, compared in constant time. */
    private static boolean verify(String secret, String timestamp, byte[] body, String header) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        mac.update((timestamp + ".").getBytes(StandardCharsets.UTF_8));
        String expected = "sha256=" + HexFormat.of().formatHex(mac.doFinal(body));
        return MessageDigest.isEqual(
                expected.getBytes(StandardCharsets.US_ASCII), header.getBytes(StandardCharsets.US_ASCII));
    }

    private WebhookDestination reopen(SluiceConfig.DestinationSettings.Webhook settings) {
        destination.close();
        return Webhooks.destination(settings, registry, Clock.systemUTC());
    }
}
