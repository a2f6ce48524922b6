package io.sluice.collector;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.management.OperatingSystemMXBean;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.config.ConfigLoader;
import io.sluice.config.SluiceConfig;
import io.sluice.config.SluiceConfig.SourceSettings;
import io.sluice.contract.Contract;
import io.sluice.contract.Contracts;
import io.sluice.contract.Violation;
import io.sluice.runtime.Sluice;
import io.sluice.support.Http;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Benchmark, not a timed test (run it with {@code -Dtest=ContractBenchmark}; it only logs). First the collector's
 * per-event work on one thread, in events per CPU-second of that thread: parse a 100-event batch, validate,
 * enrich, check the contract, serialise for Kafka ({@link IngestHandler#prepare}), with and without a contract.
 * HTTP and Kafka are left out, so the contract's share there is an upper bound of its share of the collector's
 * throughput. Then the whole collector over HTTP. Figures: docs/contracts.md.
 */
class ContractBenchmark {
    private static final Logger log = LoggerFactory.getLogger(ContractBenchmark.class);
    static final int BATCH = 100;
    static final ThreadMXBean CPU = ManagementFactory.getThreadMXBean();

    static final String PLAN = """
            events:
              "Order Completed":
                properties:
                  type: object
                  required: [order_id, total, currency, products]
                  additionalProperties: false
                  properties:
                    order_id: {type: string, minLength: 1}
                    total: {type: number, minimum: 0}
                    revenue: {type: number}
                    currency: {type: string, enum: [EUR, USD, GBP]}
                    coupon: {type: [string, "null"]}
                    products:
                      type: array
                      items:
                        type: object
                        required: [sku, price]
                        properties: {sku: {type: string}, price: {type: number}, quantity: {type: integer, minimum: 1}}
            """;

    @Test
    void contractCostOnTheCollectorPath() {
        SluiceConfig config = new ConfigLoader(Map.of()).loadYaml("""
                sources:
                  - {id: plain, writeKey: wk_plain}
                  - id: allow
                    writeKey: wk_allow
                    contract:
                %s
                  - id: omit
                    writeKey: wk_omit
                    contract:
                %s
                """.formatted(
                        ("violations: allow\n" + PLAN).indent(6), ("violations: omit\n" + PLAN).indent(6)));
        Contracts contracts = Contracts.from(config);
        ObjectMapper mapper = new ObjectMapper();
        IngestHandler handler = new IngestHandler(
                mapper,
                new Sources(config.sources()),
                contracts,
                config.collector(),
                null,
                null,
                new CollectorMetrics(new SimpleMeterRegistry()),
                Clock.systemUTC());
        RequestParser parser = new RequestParser(mapper, config.collector().maxBatchEvents());
        byte[] valid = batch(false);
        byte[] invalid = batch(true);

        record Variant(String name, byte[] body, SourceSettings source, Contract contract) {}
        List<Variant> variants = List.of(
                new Variant("no contract", valid, config.sources().get(0), null),
                new Variant("contract, valid events", valid, config.sources().get(1), contracts.forSource("allow")),
                new Variant(
                        "contract, 2 violations/event, allow",
                        invalid,
                        config.sources().get(1),
                        contracts.forSource("allow")),
                new Variant(
                        "contract, 2 violations/event, omit",
                        invalid,
                        config.sources().get(2),
                        contracts.forSource("omit")));
        // Interleaved short slices, so that load from other processes hits every variant alike; medians of each.
        int rounds = 30;
        double[][] rates = new double[variants.size()][rounds];
        long[] violations = new long[variants.size()];
        long[] events = new long[variants.size()];
        for (int warmup = 0; warmup < 3; warmup++)
            for (Variant v : variants) slice(handler, parser, v.body(), v.source(), v.contract(), 300, null);
        for (int round = 0; round < rounds; round++) {
            for (int i = 0; i < variants.size(); i++) {
                Variant v = variants.get(i);
                long[] counts = new long[2];
                rates[i][round] = slice(handler, parser, v.body(), v.source(), v.contract(), 200, counts);
                events[i] += counts[0];
                violations[i] += counts[1];
            }
        }
        List<String> lines = new ArrayList<>();
        double[] baseline = rates[0].clone();
        Arrays.sort(baseline);
        double base = baseline[rounds / 2];
        for (int i = 0; i < variants.size(); i++) {
            double[] ratio = new double[rounds];
            for (int r = 0; r < rounds; r++) ratio[r] = rates[i][r] / rates[0][r]; // same round, same background load
            Arrays.sort(ratio);
            double[] sorted = rates[i].clone();
            Arrays.sort(sorted);
            double median = sorted[rounds / 2];
            lines.add(String.format(
                    "  %-38s %,9.0f events/s per core  %5.2f µs CPU/event  %4.1f violations/event%s",
                    variants.get(i).name(),
                    median,
                    1e6 / median,
                    (double) violations[i] / events[i],
                    i == 0
                            ? ""
                            : String.format(
                                    "  cost %5.1f %% of throughput (median of paired rounds), %+.2f µs/event",
                                    100 * (1 - ratio[rounds / 2]), 1e6 / median - 1e6 / base)));
        }
        log.info(
                "Contract cost on the collector path ({} cores, {}-event batches, {} bytes/event, {} interleaved rounds):\n{}",
                Runtime.getRuntime().availableProcessors(),
                BATCH,
                valid.length / BATCH,
                rounds,
                String.join("\n", lines));
    }

    /**
     * The whole collector in this JVM: HTTP (16 connections posting 100-event batches) into a real collector, its
     * Kafka broker and, for the contract variants, the violations topic. Throughput is given per CPU-core-second of
     * the process (load generator and broker included, as in docs/performance.md), which other load on the
     * machine does not distort; the variants are interleaved.
     */
    @Test
    void contractCostThroughTheCollectorOverHttp() throws Exception {
        String suffix = UUID.randomUUID().toString();
        SluiceConfig config = new ConfigLoader(Map.of()).loadYaml("""
                kafka: {bootstrapServers: "%s", eventsTopic: bench-events-%s, violationsTopic: bench-violations-%s, partitions: 8}
                collector: {host: 127.0.0.1, port: 0}
                admin: {host: 127.0.0.1, port: 0}
                sources:
                  - {id: plain, writeKey: wk_plain}
                  - id: allow
                    writeKey: wk_allow
                    contract:
                %s
                """.formatted(
                        io.sluice.support.TestKafka.bootstrapServers(),
                        suffix,
                        suffix,
                        ("violations: allow\n" + PLAN).indent(6)));
        var os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        try (Sluice sluice = new Sluice(config, EnumSet.of(Sluice.Role.COLLECTOR), false, Clock.systemUTC())) {
            sluice.start();
            var client =
                    HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            String url = sluice.collectorUrl() + "/v1/batch";
            record Variant(String name, String writeKey, byte[] body) {}
            List<Variant> variants = List.of(
                    new Variant("no contract", "wk_plain", batch(false)),
                    new Variant("contract, valid events", "wk_allow", batch(false)),
                    new Variant("contract, 2 violations/event, allow", "wk_allow", batch(true)));
            for (Variant v : variants) load(client, url, v.writeKey(), v.body(), 3_000, os); // warm-up
            int rounds = 6;
            double[][] perCore = new double[variants.size()][rounds];
            double[][] wall = new double[variants.size()][rounds];
            for (int round = 0; round < rounds; round++) {
                for (int i = 0; i < variants.size(); i++) {
                    double[] result = load(
                            client,
                            url,
                            variants.get(i).writeKey(),
                            variants.get(i).body(),
                            5_000,
                            os);
                    wall[i][round] = result[0];
                    perCore[i][round] = result[1];
                }
            }
            List<String> lines = new ArrayList<>();
            double base = median(perCore[0]);
            for (int i = 0; i < variants.size(); i++) {
                double core = median(perCore[i]);
                lines.add(String.format(
                        "  %-38s %,9.0f events/s  %,9.0f events/s per core  %5.2f µs CPU/event%s",
                        variants.get(i).name(),
                        median(wall[i]),
                        core,
                        1e6 / core,
                        i == 0
                                ? ""
                                : String.format(
                                        "  cost %5.1f %% of throughput per core (medians)", 100 * (1 - core / base))));
            }
            log.info(
                    "Contract cost through the whole collector over HTTP (16 connections, {}-event batches, {} interleaved rounds of 5 s):\n{}",
                    BATCH,
                    rounds,
                    String.join("\n", lines));
        }
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    /** Posts batches from 16 threads for {@code millis}: {events/s, events per CPU-core-second of this process}. */
    private static double[] load(
            HttpClient client, String url, String writeKey, byte[] body, long millis, OperatingSystemMXBean os)
            throws Exception {
        var accepted = new AtomicLong();
        var failed = new AtomicLong();
        String auth = Http.basic(writeKey);
        long cpuStarted = os.getProcessCpuTime();
        long started = System.nanoTime();
        long until = started + millis * 1_000_000L;
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 16; t++) {
            threads.add(Thread.ofPlatform().start(() -> {
                var request = HttpRequest.newBuilder(URI.create(url))
                        .header("Authorization", auth)
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                        .build();
                while (System.nanoTime() < until) {
                    try {
                        int status = client.send(request, HttpResponse.BodyHandlers.discarding())
                                .statusCode();
                        if (status == 200) accepted.addAndGet(BATCH);
                        else failed.incrementAndGet();
                    } catch (Exception e) {
                        failed.incrementAndGet();
                    }
                }
            }));
        }
        for (Thread thread : threads) thread.join();
        double seconds = (System.nanoTime() - started) / 1e9;
        double cpuSeconds = (os.getProcessCpuTime() - cpuStarted) / 1e9;
        if (failed.get() > 0) log.warn("{} requests failed", failed.get());
        return new double[] {accepted.get() / seconds, accepted.get() / cpuSeconds};
    }

    /** Events/s through {@link IngestHandler#prepare} for {@code millis}; counts[0] += events, counts[1] += violations. */
    private static double slice(
            IngestHandler handler,
            RequestParser parser,
            byte[] body,
            SourceSettings source,
            Contract contract,
            long millis,
            long[] counts) {
        Endpoint endpoint = new Endpoint("/v1/batch", null);
        long events = 0;
        long violations = 0;
        long cpuStarted = CPU.getCurrentThreadCpuTime();
        long until = System.nanoTime() + millis * 1_000_000L;
        while (System.nanoTime() < until) {
            List<Violation> found = contract == null ? null : new ArrayList<>();
            var outgoing = handler.prepare(parser.parseBatch(body), endpoint, source, "127.0.0.1", contract, found);
            if (found != null) {
                if (!found.isEmpty())
                    Violation.toJson(found); // what publishing violations costs the request thread, minus the send
                violations += found.size();
            }
            events += outgoing.size();
        }
        if (counts != null) {
            counts[0] += events;
            counts[1] += violations;
        }
        // CPU time of this thread, not wall time: other processes on the machine do not skew the comparison
        return events / ((CPU.getCurrentThreadCpuTime() - cpuStarted) / 1e9);
    }

    static byte[] batch(boolean withViolations) {
        StringBuilder body = new StringBuilder("{\"batch\":[");
        for (int i = 0; i < BATCH; i++) {
            if (i > 0) body.append(',');
            String total = withViolations ? "\"99.90\"" : "99.90"; // type
            String currency = withViolations ? "\"eur\"" : "\"EUR\""; // enum
            body.append("""
                    {"type":"track","event":"Order Completed","userId":"user-%d","anonymousId":"anon-%d",
                     "timestamp":"2026-03-01T11:00:00.000Z","messageId":"bench-%d",
                     "properties":{"order_id":"o-%d","total":%s,"revenue":90.0,"currency":%s,"coupon":null,
                       "products":[{"sku":"sku-1","price":49.95,"quantity":1},{"sku":"sku-2","price":49.95,"quantity":1}]},
                     "context":{"library":{"name":"analytics.js","version":"2.11.1"},"locale":"en-GB",
                       "page":{"path":"/checkout","url":"https://shop.example.com/checkout","title":"Checkout"},
                       "userAgent":"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"}}""".formatted(i % 50, i, i, i, total, currency));
        }
        return body.append("],\"sentAt\":\"2026-03-01T11:00:01.000Z\"}")
                .toString()
                .getBytes(StandardCharsets.UTF_8);
    }
}
