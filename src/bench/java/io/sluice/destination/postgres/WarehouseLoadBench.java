package io.sluice.destination.postgres;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sluice.config.SluiceConfig.DestinationSettings;
import io.sluice.destination.DeliveryBatch;
import io.sluice.destination.Destination;
import io.sluice.destination.DestinationContext;
import io.sluice.embedded.EmbeddedPostgres;
import io.sluice.event.ExactEvent;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * Focused timing harness of the warehouse load (docs/performance.md, "Delivery path"): batches of 1,000 events of
 * ~550 bytes (80 % tracks over 8 names with a product array, 10 % pages, 10 % identifies) loaded one at a time into
 * the embedded PostgreSQL; reports per event the worker-side CPU (mapping, CSV, JDBC: the loading thread's CPU
 * time), the CPU of the warehouse's backend processes (/proc), and wall time per batch, for fresh batches and for
 * re-delivered ones. Run: {@code java -cp target/sluice.jar io.sluice.destination.postgres.WarehouseLoadBench
 * [port] [batches] [formats|worker]}; with {@code formats}, binary and CSV COPY alternated batch by batch instead;
 * with {@code worker}, the path from record bytes with CPU and allocated bytes per event ({@link #worker}).
 */
public final class WarehouseLoadBench {
    private static final int BATCH = 1_000;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private WarehouseLoadBench() {}

    public static void main(String[] args) throws Exception {
        int port = args.length > 0 ? Integer.parseInt(args[0]) : 24100;
        int batches = args.length > 1 ? Integer.parseInt(args[1]) : 60;
        Path dir = Files.createTempDirectory("sluice-whbench");
        EmbeddedPostgres pg = new EmbeddedPostgres(dir, port, "sluice");
        pg.start();
        try {
            pg.createDatabase("whbench");
            DestinationSettings.Warehouse settings =
                    new DestinationSettings.Warehouse("warehouse", pg.jdbcUrl("whbench"), "sluice", "", 1_000);
            WarehouseDestinationFactory factory = new WarehouseDestinationFactory();
            factory.validate(settings);
            Destination destination =
                    factory.create(settings, DestinationContext.of(new SimpleMeterRegistry(), Clock.systemUTC()));
            destination.open();
            Random random = new Random(42);
            List<List<ObjectNode>> all = new ArrayList<>();
            for (int b = 0; b < 20 + 2 * batches; b++) all.add(batch(random, b));
            for (int b = 0; b < 20; b++) deliver(destination, all.get(b)); // tables, JIT
            parseBench(random);
            Path pgdata = dir.resolve("pgdata");
            if (args.length > 2 && args[2].equals("worker")) {
                worker(destination, random, batches);
                destination.close();
                return;
            }
            if (args.length > 2 && args[2].equals("formats")) {
                formats(destination, random, batches, pgdata);
                destination.close();
                return;
            }
            for (int round = 0; round < 2; round++) {
                List<List<ObjectNode>> fresh = all.subList(20 + round * batches, 20 + (round + 1) * batches);
                report("fresh batches, round " + (round + 1), destination, fresh, pgdata);
                report("re-delivered batches, round " + (round + 1), destination, fresh, pgdata);
                mapOnly(fresh);
            }
            destination.close();
        } finally {
            pg.close();
        }
    }

    private static void report(String label, Destination destination, List<List<ObjectNode>> batches, Path pgdata)
            throws Exception {
        long pgBefore = backendTicks(pgdata, "whbench");
        long cpuBefore = THREADS.getCurrentThreadCpuTime();
        long started = System.nanoTime();
        for (List<ObjectNode> batch : batches) deliver(destination, batch);
        long wall = System.nanoTime() - started;
        long cpu = THREADS.getCurrentThreadCpuTime() - cpuBefore;
        long pg = (backendTicks(pgdata, "whbench") - pgBefore) * 10_000_000L;
        double events = (double) batches.size() * BATCH;
        System.out.printf(
                "%-32s %4d batches: worker CPU %5.2f µs/event, warehouse backends %5.2f µs/event, %6.1f ms/batch%n",
                label, batches.size(), cpu / events / 1e3, pg / events / 1e3, wall / 1e6 / batches.size());
    }

    /**
     * Binary vs CSV COPY of fresh batches, alternated batch by batch (CSV first in even pairs, binary first in odd
     * ones) so both formats see the same machine: per format, the loading thread's CPU and the warehouse backends'.
     */
    private static void formats(Destination destination, Random random, int pairs, Path pgdata) throws Exception {
        long[] cpu = new long[2];
        long[] pg = new long[2];
        for (int i = 0; i < pairs; i++) {
            for (int k = 0; k < 2; k++) {
                int arm = (i + k) % 2; // 0 = binary, 1 = csv
                List<ObjectNode> batch = batch(random, 100_000 + 2 * i + k);
                BatchLoader.binaryCopy = arm == 0;
                long pgBefore = backendTicks(pgdata, "whbench");
                long cpuBefore = THREADS.getCurrentThreadCpuTime();
                deliver(destination, batch);
                cpu[arm] += THREADS.getCurrentThreadCpuTime() - cpuBefore;
                pg[arm] += backendTicks(pgdata, "whbench") - pgBefore;
            }
        }
        BatchLoader.binaryCopy = true;
        double events = (double) pairs * BATCH;
        for (int arm = 0; arm < 2; arm++) {
            System.out.printf(
                    "%-32s %4d batches: worker CPU %5.2f µs/event, warehouse backends %5.2f µs/event%n",
                    arm == 0 ? "binary COPY, alternated" : "CSV COPY, alternated",
                    pairs,
                    cpu[arm] / events / 1e3,
                    pg[arm] * 10_000_000L / events / 1e3);
        }
    }

    /**
     * The worker's warehouse path from record bytes ({@code worker} mode): per fresh batch, each event parsed from
     * its JSON bytes as the worker's reader does ({@link ExactEvent}), mapped and loaded by binary COPY. Reports the
     * loading thread's CPU and allocated bytes per event for the whole path, then for parsing and mapping alone.
     * Compare builds by running this mode of each jar alternately (docs/performance.md).
     */
    private static void worker(Destination destination, Random random, int batches) throws Exception {
        List<List<byte[]>> all = new ArrayList<>();
        for (int b = 0; b < batches + 20; b++) {
            List<byte[]> bytes = new ArrayList<>(BATCH);
            for (ObjectNode event : batch(random, 200_000 + b)) bytes.add(JSON.writeValueAsBytes(event));
            all.add(bytes);
        }
        for (int b = 0; b < 20; b++) deliver(destination, parsed(all.get(b))); // JIT
        long cpuBefore = THREADS.getCurrentThreadCpuTime();
        long allocBefore = allocated();
        for (List<byte[]> batch : all.subList(20, all.size())) deliver(destination, parsed(batch));
        long cpu = THREADS.getCurrentThreadCpuTime() - cpuBefore;
        long alloc = allocated() - allocBefore;
        double events = (double) batches * BATCH;
        System.out.printf(
                "%-32s %4d batches: %6.2f µs/event CPU, %6.0f bytes/event allocated%n",
                "parse + map + load (binary)", batches, cpu / events / 1e3, alloc / events);
        cpuBefore = THREADS.getCurrentThreadCpuTime();
        allocBefore = allocated();
        int tables = 0;
        for (List<byte[]> batch : all.subList(20, all.size()))
            tables += EventMapper.map(parsed(batch)).tables().size();
        cpu = THREADS.getCurrentThreadCpuTime() - cpuBefore;
        alloc = allocated() - allocBefore;
        System.out.printf(
                "%-32s %4d batches: %6.2f µs/event CPU, %6.0f bytes/event allocated (%d tables)%n",
                "parse + map", batches, cpu / events / 1e3, alloc / events, tables);
        cpuBefore = THREADS.getCurrentThreadCpuTime();
        allocBefore = allocated();
        for (List<byte[]> batch : all.subList(20, all.size()))
            tables += parsed(batch).size();
        cpu = THREADS.getCurrentThreadCpuTime() - cpuBefore;
        alloc = allocated() - allocBefore;
        System.out.printf(
                "%-32s %4d batches: %6.2f µs/event CPU, %6.0f bytes/event allocated%n",
                "parse alone", batches, cpu / events / 1e3, alloc / events);
    }

    private static List<ObjectNode> parsed(List<byte[]> batch) throws Exception {
        List<ObjectNode> events = new ArrayList<>(batch.size());
        for (byte[] json : batch) events.add(ExactEvent.of(json));
        return events;
    }

    private static long allocated() {
        return ((com.sun.management.ThreadMXBean) THREADS).getCurrentThreadAllocatedBytes();
    }

    private static void mapOnly(List<List<ObjectNode>> batches) {
        long cpuBefore = THREADS.getCurrentThreadCpuTime();
        int tables = 0;
        for (List<ObjectNode> batch : batches)
            tables += EventMapper.map(batch).tables().size();
        long cpu = THREADS.getCurrentThreadCpuTime() - cpuBefore;
        System.out.printf(
                "%-32s %4d batches: %5.2f µs/event (%d tables)%n",
                "EventMapper.map alone", batches.size(), cpu / (batches.size() * (double) BATCH) / 1e3, tables);
    }

    private static void parseBench(Random random) {
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 100_000; i++) {
            Instant at = Instant.ofEpochMilli(random.nextLong(0, 4_000_000_000_000L));
            texts.add(at.toString());
        }
        long sink = 0;
        for (int warm = 0; warm < 5; warm++)
            for (String t : texts) sink += Value.parseTimestamp(t).getNano();
        long cpuBefore = THREADS.getCurrentThreadCpuTime();
        for (int rep = 0; rep < 10; rep++)
            for (String t : texts) sink += Value.parseTimestamp(t).getNano();
        long cpu = THREADS.getCurrentThreadCpuTime() - cpuBefore;
        System.out.printf(
                "%-32s %,d calls: %5.0f ns/call (%d)%n",
                "Value.parseTimestamp", texts.size() * 10, cpu / (texts.size() * 10.0), sink % 10);
    }

    private static final long[] BATCH_IDS = {0};

    private static void deliver(Destination destination, List<ObjectNode> events) throws Exception {
        long id = ++BATCH_IDS[0];
        destination.deliver(
                new DeliveryBatch("sync-bench", "bench", id, 0, id * BATCH, id * BATCH + BATCH - 1, events));
    }

    /** CPU ticks (10 ms) of the server's backends connected to the database. */
    private static long backendTicks(Path pgdata, String database) throws Exception {
        long postmaster = Long.parseLong(
                Files.readAllLines(pgdata.resolve("postmaster.pid")).get(0).trim());
        long ticks = 0;
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path p : (Iterable<Path>) procs::iterator) {
                String name = p.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit)) continue;
                try {
                    String stat = Files.readString(p.resolve("stat"));
                    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                    if (Long.parseLong(f[1]) != postmaster) continue;
                    String title = new String(Files.readAllBytes(p.resolve("cmdline")), StandardCharsets.UTF_8);
                    if (!title.contains(" " + database + " ")) continue;
                    ticks += Long.parseLong(f[11]) + Long.parseLong(f[12]);
                } catch (Exception gone) {
                    // the process exited meanwhile
                }
            }
        }
        return ticks;
    }

    /** 80 % tracks (8 names, a product array), 10 % pages, 10 % identifies; ~550 bytes as the collector writes them. */
    static List<ObjectNode> batch(Random random, int b) {
        String[] names = {
            "Order Completed", "Product Viewed", "Product Added", "Checkout Started",
            "Products Searched", "Cart Viewed", "Coupon Applied", "Signed Up"
        };
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        List<ObjectNode> events = new ArrayList<>(BATCH);
        for (int i = 0; i < BATCH; i++) {
            ObjectNode e = JSON.createObjectNode();
            int kind = i % 10;
            e.put("type", kind < 8 ? "track" : kind == 8 ? "page" : "identify");
            if (kind < 8) e.put("event", names[random.nextInt(names.length)]);
            e.put("userId", "user_" + random.nextInt(50_000));
            e.put("anonymousId", new UUID(random.nextLong(), random.nextLong()).toString());
            e.put("messageId", "ajs-next-" + b + "-" + i + "-" + Long.toHexString(random.nextLong()));
            String at = now.minusMillis(random.nextInt(5_000)).toString();
            e.put("timestamp", at).put("originalTimestamp", at).put("sentAt", at);
            e.put("receivedAt", now.toString());
            ObjectNode p = e.putObject(kind == 9 ? "traits" : "properties");
            if (kind < 8) {
                p.put("order_id", "o-" + random.nextInt(1_000_000));
                p.put("revenue", random.nextInt(20_000) / 100.0);
                p.put("currency", "EUR");
                ArrayNode products = p.putArray("products");
                products.addObject()
                        .put("product_id", "sku-" + random.nextInt(100_000))
                        .put("quantity", 1);
                products.addObject()
                        .put("product_id", "sku-" + random.nextInt(100_000))
                        .put("quantity", 2);
            } else if (kind == 8) {
                e.put("name", "Pricing");
                p.put("url", "https://shop.example.com/pricing").put("path", "/pricing");
            } else {
                p.put("email", "u" + random.nextInt(50_000) + "@example.com").put("plan", "pro");
            }
            ObjectNode c = e.putObject("context");
            c.putObject("library").put("name", "analytics.js").put("version", "next-1.70.0");
            c.putObject("page").put("url", "https://shop.example.com/products/" + random.nextInt(100_000));
            c.put("userAgent", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 Safari/605.1.15");
            c.put("ip", "203.0.113." + random.nextInt(255));
            e.put("sourceId", "bench");
            events.add(e);
        }
        return events;
    }
}
