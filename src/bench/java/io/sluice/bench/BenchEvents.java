package io.sluice.bench;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import java.util.UUID;

/**
 * Realistic Segment track events as analytics.js sends them: {@code Order Completed} with order properties, a products
 * array and a library/page/userAgent/ip context, ~550 bytes of JSON each, from {@link #USERS} distinct users. Generated once, up front, from a fixed
 * seed, so the load generators spend no CPU building payloads and every run sends the same bytes.
 */
final class BenchEvents {
    static final String WRITE_KEY = "wk_bench_web";
    static final String SOURCE_ID = "web";

    private static final String[] AGENTS = {
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148"
    };
    /** Distinct users: several thousand, so per-user ordering and partition keys spread like real traffic. */
    static final int USERS = 5_000;

    private final ObjectMapper mapper = new ObjectMapper();
    private final Random random = new Random(42);
    private final Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);

    /**
     * One analytics.js {@code Order Completed} event (Segment's e-commerce spec): order id, revenue and a products
     * array (one item, one event in eight two), and a context with library, page, userAgent and ip. About 565 bytes
     * (550-620).
     */
    ObjectNode event() {
        ObjectNode e = mapper.createObjectNode();
        int user = random.nextInt(USERS);
        e.put("type", "track");
        e.put("event", "Order Completed");
        e.put("userId", "user_" + user);
        e.put("anonymousId", new UUID(user, 42).toString());
        // the same length as the paced loads' unique ids, so every load sends the same sizes
        e.put("messageId", "bench-%016x".formatted(random.nextLong()));
        e.put("timestamp", now.minusMillis(random.nextInt(5_000)).toString());
        ObjectNode p = e.putObject("properties");
        p.put("order_id", "ord_" + (100_000 + random.nextInt(900_000)));
        int products = random.nextInt(8) == 0 ? 2 : 1;
        double revenue = 0;
        var items = mapper.createArrayNode();
        for (int i = 0; i < products; i++) {
            double price = (500 + random.nextInt(15_000)) / 100.0;
            int quantity = 1 + random.nextInt(3);
            revenue += price * quantity;
            items.addObject()
                    .put("product_id", "sku-" + random.nextInt(100_000))
                    .put("price", price)
                    .put("quantity", quantity);
        }
        p.put("revenue", Math.round(revenue * 100) / 100.0);
        p.set("products", items);
        ObjectNode c = e.putObject("context");
        c.putObject("library").put("name", "analytics.js").put("version", "next-1.70." + random.nextInt(10));
        c.putObject("page").put("path", "/checkout");
        c.put("userAgent", AGENTS[random.nextInt(AGENTS.length)]);
        c.put("ip", "203.0." + random.nextInt(256) + "." + random.nextInt(256));
        return e;
    }

    /** {@code count} distinct events. */
    List<ObjectNode> events(int count) {
        List<ObjectNode> events = new ArrayList<>(count);
        for (int i = 0; i < count; i++) events.add(event());
        return events;
    }

    /** Consecutive events grouped into {@code /v1/batch} bodies of {@code batchSize} (the remainder is dropped). */
    List<byte[]> batchBodies(List<ObjectNode> events, int batchSize) {
        List<byte[]> bodies = new ArrayList<>();
        for (int from = 0; from + batchSize <= events.size(); from += batchSize) {
            ObjectNode body = mapper.createObjectNode();
            body.putArray("batch").addAll(events.subList(from, from + batchSize));
            body.put("sentAt", now.toString());
            bodies.add(bytes(body));
        }
        return bodies;
    }

    /** Each event serialised on its own: a {@code /v1/track} body, or a Kafka record value. */
    List<byte[]> eventBodies(List<ObjectNode> events) {
        return events.stream().map(this::bytes).toList();
    }

    /** The Kafka key the collector gives this event: source id + userId (or anonymousId). */
    static byte[] partitionKey(ObjectNode event) {
        String id = event.hasNonNull("userId")
                ? event.get("userId").asText()
                : event.get("anonymousId").asText();
        return (SOURCE_ID + ":" + id).getBytes(StandardCharsets.UTF_8);
    }

    byte[] bytes(ObjectNode node) {
        try {
            return mapper.writeValueAsBytes(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A complete HTTP/1.1 request (keep-alive, Basic auth with the write key), ready to write to a socket. */
    static byte[] httpRequest(String path, String hostPort, byte[] body) {
        String auth = Base64.getEncoder().encodeToString((WRITE_KEY + ":").getBytes(StandardCharsets.UTF_8));
        byte[] head = ("POST " + path + " HTTP/1.1\r\nHost: " + hostPort + "\r\nAuthorization: Basic " + auth
                        + "\r\nContent-Type: application/json\r\nContent-Length: " + body.length + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII);
        byte[] request = new byte[head.length + body.length];
        System.arraycopy(head, 0, request, 0, head.length);
        System.arraycopy(body, 0, request, head.length, body.length);
        return request;
    }
}
