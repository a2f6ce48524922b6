package io.sluice.bench;

import io.sluice.config.ConfigLoader;
import io.sluice.runtime.Sluice;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code bench destinations}: one standalone Sluice (embedded Kafka and PostgreSQL) with a warehouse sync, a healthy
 * webhook sync and a bad webhook sync, under a paced load. The bad receiver goes through the modes in turn
 * (first a baseline phase in which it answers 200); each mode is followed by its recovery, whose catch-up rate (events
 * the bad receiver gets per second until it holds as many events as had been accepted when it recovered) is measured
 * while the load goes on.
 */
final class DestinationsRun {
    record Options(int rate, Duration duration, Duration warmup, int users, String webhookMode, String command) {}

    record Phase(
            String mode,
            long healthyEvents,
            long p50Micros,
            long p99Micros,
            double catchUpRate,
            double seconds,
            boolean caughtUp,
            Instant from,
            Instant to) {}

    /** The warehouse's latency (load transaction start {@code uuid_ts} − {@code received_at}) of a phase's events. */
    record WarehouseLatency(long events, long p50Millis, long p99Millis) {}

    private static final int EVENTS_PER_REQUEST = 100;
    private static final String PAD = "x".repeat(220); // ~550-byte events with the enriched fields
    private final Options o;
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong failedRequests = new AtomicLong();

    DestinationsRun(Options options) {
        this.o = options;
    }

    String run() throws Exception {
        Path dir = Files.createTempDirectory("sluice-bench-destinations");
        List<Phase> phases = new ArrayList<>();
        String started = Instant.now().toString();
        try (BenchReceiver healthy = new BenchReceiver();
                BenchReceiver bad = new BenchReceiver();
                Sluice sluice = Sluice.standalone(
                        new ConfigLoader(Map.of()).loadYaml(yaml(dir.resolve("data"), healthy.url(), bad.url())))) {
            sluice.start();
            AtomicBoolean running = new AtomicBoolean(true);
            Thread load = Thread.ofPlatform().name("bench-load").start(() -> load(sluice.collectorUrl(), running));
            System.out.printf(
                    "Load: %,d events/s, %d per request, %d users; warm-up %ds%n",
                    o.rate(), EVENTS_PER_REQUEST, o.users(), o.warmup().toSeconds());
            Thread.sleep(o.warmup());
            BenchReceiver.Mode[] modes = BenchReceiver.Mode.values();
            Duration perMode = o.duration().dividedBy(modes.length - 1); // REFUSED.. plus baseline OK, minus nothing
            for (BenchReceiver.Mode mode : modes) {
                phases.add(phase(mode, perMode, healthy, bad));
            }
            running.set(false);
            load.join();
            Thread.sleep(5_000); // the last phase's events reach the warehouse
            List<WarehouseLatency> warehouse = new ArrayList<>();
            for (Phase p : phases) warehouse.add(warehouseLatency(sluice.warehouseUrl(), p));
            return report(phases, warehouse, healthy, bad, started);
        } finally {
            BenchRun.deleteRecursively(dir);
        }
    }

    /** Two thirds of the time with the bad receiver in {@code mode}, then its recovery (bounded by the rest). */
    private Phase phase(BenchReceiver.Mode mode, Duration length, BenchReceiver healthy, BenchReceiver bad)
            throws Exception {
        bad.mode(mode);
        healthy.swapLatency();
        Instant from = Instant.now();
        Thread.sleep(length.multipliedBy(2).dividedBy(3));
        Instant to = Instant.now();
        LatencyHistogram h = healthy.swapLatency();
        bad.mode(BenchReceiver.Mode.OK);
        long t0 = System.nanoTime();
        long before = bad.acceptedEvents();
        long backlog = sent.get(); // caught up: everything accepted before the recovery has arrived
        long deadline =
                t0 + length.dividedBy(3).toNanos() + Duration.ofSeconds(60).toNanos();
        double seconds;
        while (bad.acceptedEvents() < backlog && System.nanoTime() < deadline) Thread.sleep(50);
        seconds = (System.nanoTime() - t0) / 1e9;
        double rate = (bad.acceptedEvents() - before) / Math.max(0.001, seconds);
        Phase p = new Phase(
                mode.label,
                h.count(),
                h.percentile(50),
                h.percentile(99),
                rate,
                seconds,
                bad.acceptedEvents() >= backlog,
                from,
                to);
        System.out.printf(
                "%-45s healthy p50 %6d ms, p99 %6d ms (%,d events); catch-up %,.0f events/s (%.1fx) in %.1f s%n",
                p.mode(),
                p.p50Micros() / 1000,
                p.p99Micros() / 1000,
                p.healthyEvents(),
                rate,
                rate / o.rate(),
                seconds);
        long rest = length.dividedBy(3).toNanos() - (System.nanoTime() - t0);
        if (rest > 0) Thread.sleep(Duration.ofNanos(rest));
        return p;
    }

    /** Open-loop: a request of EVENTS_PER_REQUEST events is due every EVENTS_PER_REQUEST / rate seconds. */
    private void load(String collectorUrl, AtomicBoolean running) {
        HttpClient client =
                HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        String auth = "Basic " + Base64.getEncoder().encodeToString("wk_bench:".getBytes());
        long interval = 1_000_000_000L * EVENTS_PER_REQUEST / o.rate();
        long next = System.nanoTime();
        long[] seq = new long[o.users()];
        int user = 0;
        while (running.get()) {
            StringBuilder body = new StringBuilder(EVENTS_PER_REQUEST * 400).append("{\"batch\":[");
            for (int i = 0; i < EVENTS_PER_REQUEST; i++) {
                int u = user++ % o.users();
                body.append(i == 0 ? "" : ",")
                        .append("{\"type\":\"track\",\"event\":\"Product Viewed\",\"userId\":\"user-")
                        .append(u)
                        .append("\",\"properties\":{\"seq\":")
                        .append(seq[u]++)
                        .append(",\"pad\":\"")
                        .append(PAD)
                        .append("\"}}");
            }
            HttpRequest request = HttpRequest.newBuilder(URI.create(collectorUrl + "/v1/batch"))
                    .header("Authorization", auth)
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body.append("]}").toString()))
                    .build();
            // in order per user: each request waits for the one before (the collector answers in milliseconds)
            try {
                HttpResponse<Void> response = client.send(request, HttpResponse.BodyHandlers.discarding());
                if (response.statusCode() == 200) sent.addAndGet(EVENTS_PER_REQUEST);
                else failedRequests.incrementAndGet();
            } catch (Exception e) {
                failedRequests.incrementAndGet();
            }
            next += interval;
            long wait = next - System.nanoTime();
            if (wait > 0) {
                try {
                    Thread.sleep(Duration.ofNanos(wait));
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    /** How the issue measured the damage: the warehouse sync's p99 while the bad webhook misbehaves. */
    private static WarehouseLatency warehouseLatency(String url, Phase phase) throws SQLException {
        String sql = """
                SELECT count(*),
                       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM uuid_ts - received_at)),
                       percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM uuid_ts - received_at))
                FROM web.tracks WHERE received_at >= ? AND received_at < ?""";
        try (Connection c = DriverManager.getConnection(url, "sluice", "");
                PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setTimestamp(1, Timestamp.from(phase.from()));
            ps.setTimestamp(2, Timestamp.from(phase.to()));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return new WarehouseLatency(
                        rs.getLong(1), Math.round(rs.getDouble(2) * 1000), Math.round(rs.getDouble(3) * 1000));
            }
        }
    }

    private String report(
            List<Phase> phases,
            List<WarehouseLatency> warehouse,
            BenchReceiver healthy,
            BenchReceiver bad,
            String started) {
        StringBuilder out = new StringBuilder();
        out.append("`")
                .append(o.command())
                .append("` (started ")
                .append(started)
                .append(")\n\n");
        out.append(("Load %,d events/s (%d events per /v1/batch request, %d users), %,d events accepted, %d failed"
                        + " requests; webhooks in %s mode.%n%n")
                .formatted(o.rate(), EVENTS_PER_REQUEST, o.users(), sent.get(), failedRequests.get(), o.webhookMode()));
        out.append(
                "| bad webhook | healthy webhook p50 | p99 | events | warehouse p50 | p99 | events | catch-up events/s | × ingest | catch-up s |\n");
        out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (int i = 0; i < phases.size(); i++) {
            Phase p = phases.get(i);
            WarehouseLatency w = warehouse.get(i);
            out.append("| %s | %d ms | %d ms | %,d | %d ms | %d ms | %,d | %,.0f | %.1f | %.1f |%n"
                    .formatted(
                            p.mode(),
                            p.p50Micros() / 1000,
                            p.p99Micros() / 1000,
                            p.healthyEvents(),
                            w.p50Millis(),
                            w.p99Millis(),
                            w.events(),
                            p.catchUpRate(),
                            p.catchUpRate() / o.rate(),
                            p.seconds()));
        }
        out.append(("%nHealthy receiver: %,d events, %,d redelivered; bad receiver: %,d events, %,d redelivered, %d"
                        + " per-user order violations.%n")
                .formatted(
                        healthy.acceptedEvents(),
                        healthy.redeliveries(),
                        bad.acceptedEvents(),
                        bad.redeliveries(),
                        bad.orderViolations()));
        return out.toString();
    }

    private String yaml(Path dataDir, String healthyUrl, String badUrl) {
        return """
                dataDir: %s
                kafka: {bootstrapServers: embedded, embeddedPort: 0, partitions: 8}
                postgres: {url: embedded, embeddedPort: 0, user: sluice}
                collector: {host: 127.0.0.1, port: 0}
                admin: {host: 127.0.0.1, port: 0}
                sources: [{id: web, writeKey: wk_bench}]
                destinations:
                  - {id: warehouse, type: postgres, url: embedded}
                  - {id: healthy, type: webhook, url: "%s", mode: %s}
                  - {id: bad, type: webhook, url: "%s", mode: %s, timeout: 10s, retry: {cap: 10s}}
                syncs:
                  - {id: to-warehouse, source: web, destination: warehouse}
                  - {id: to-healthy, source: web, destination: healthy}
                  - {id: to-bad, source: web, destination: bad}
                """.formatted(dataDir, healthyUrl, o.webhookMode(), badUrl, o.webhookMode());
    }
}
