package io.sluice.collector;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.collector.EventEnricher.RequestFacts;
import io.sluice.collector.EventPublisher.OutgoingEvent;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Benchmark, not a timed test (run it with {@code -Dtest=StreamingBenchmark}; it only logs): the collector's
 * per-event work on one thread (parse, validate, enrich, write the Kafka records; no HTTP, no Kafka), in
 * microseconds of that thread's CPU per event, for the tree path ({@link EventRecords#fromTrees}) and the
 * streaming path ({@link EventRecords#spliced}), alternated, on analytics.js-style events of ~550 bytes like the
 * bench's. Figures: docs/performance.md.
 */
class StreamingBenchmark {
    private static final Logger log = LoggerFactory.getLogger(StreamingBenchmark.class);
    private static final ThreadMXBean CPU = ManagementFactory.getThreadMXBean();
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void cpuPerEvent() throws Exception {
        RequestParser parser = new RequestParser(JSON, 2500);
        EventRecords records = new EventRecords(JSON, new EventValidator(32 * 1024), 4 * 500 * 1024);
        Random random = new Random(42);
        List<ObjectNode> events = new ArrayList<>();
        for (int i = 0; i < 4000; i++) events.add(event(random));
        List<byte[]> batches = new ArrayList<>();
        for (int from = 0; from < events.size(); from += 100) {
            ObjectNode body = JSON.createObjectNode();
            body.putArray("batch").addAll(events.subList(from, from + 100));
            body.put("sentAt", Instant.now().toString());
            batches.add(JSON.writeValueAsBytes(body));
        }
        List<byte[]> singles = new ArrayList<>();
        for (ObjectNode event : events) singles.add(JSON.writeValueAsBytes(event));
        for (int round = 0; round < 5; round++) {
            for (boolean batch : new boolean[] {true, false}) {
                for (boolean spliced : new boolean[] {false, true}) {
                    long count = 0;
                    long cpu = CPU.getCurrentThreadCpuTime();
                    long started = System.nanoTime();
                    while (System.nanoTime() - started < 2_000_000_000L) {
                        for (byte[] body : batch ? batches : singles) {
                            ParsedRequest request = batch ? parser.parseBatch(body) : parser.parseSingle(body);
                            EventType type = batch ? null : EventType.TRACK;
                            RequestFacts facts = new RequestFacts(
                                    "web", Instant.now(), request.sentAt(), request.context(), "127.0.0.1");
                            List<OutgoingEvent> out = spliced
                                    ? records.spliced(request, type, facts, null)
                                    : records.fromTrees(request, type, facts, null, null, null);
                            assertThat(out).hasSize(request.events().size());
                            count += out.size();
                        }
                    }
                    double micros = (CPU.getCurrentThreadCpuTime() - cpu) / 1000.0 / count;
                    log.info(
                            "round {} {} {}: {} us CPU per event ({} events)",
                            round,
                            batch ? "/v1/batch x100" : "/v1/track",
                            spliced ? "streaming" : "tree",
                            String.format("%.2f", micros),
                            count);
                }
            }
        }
    }

    /** As the bench's events (io.sluice.bench.BenchEvents): 500-560 bytes of JSON. */
    private static ObjectNode event(Random random) {
        ObjectNode e = JSON.createObjectNode();
        e.put("type", "track");
        e.put("event", "Order Completed " + random.nextInt(8));
        if (random.nextInt(4) != 0) e.put("userId", "user_" + random.nextInt(50_000));
        e.put("anonymousId", new UUID(random.nextLong(), random.nextLong()).toString());
        e.put("messageId", "ajs-next-" + Long.toHexString(random.nextLong()) + Long.toHexString(random.nextLong()));
        e.put("timestamp", Instant.now().minusMillis(random.nextInt(5_000)).toString());
        ObjectNode p = e.putObject("properties");
        p.put("product_id", "sku-" + random.nextInt(100_000));
        p.put("category", "Outerwear");
        p.put("price", random.nextInt(20_000) / 100.0);
        p.put("quantity", 1 + random.nextInt(4));
        ObjectNode c = e.putObject("context");
        c.putObject("library").put("name", "analytics.js").put("version", "next-1.70." + random.nextInt(10));
        c.putObject("page").put("url", "https://shop.example.com/products/" + random.nextInt(100_000));
        c.put(
                "userAgent",
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                        + "Chrome/124.0.0.0 Safari/537.36");
        return e;
    }
}
