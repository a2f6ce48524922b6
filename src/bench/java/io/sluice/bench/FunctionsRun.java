package io.sluice.bench;

import io.sluice.config.ConfigLoader;
import io.sluice.runtime.Sluice;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code bench functions} (issue 27): one standalone Sluice with two syncs on one source under a paced load: a plain
 * one, and one whose function enriches every event from a local HTTP service with {@code fetch}. The service goes
 * through healthy, slow (2 s per call), failing (500), down and healthy again; per phase the plain sync's p50/p99
 * (arrival minus receivedAt) is compared with the healthy phase's (the issue asks p99 within +20 %), and the
 * enriched receiver's events, redeliveries and per-user order are counted.
 */
final class FunctionsRun {
    record Options(
            int rate, Duration phase, Duration warmup, int users, int concurrency, Duration catchUp, String command) {}

    record Phase(
            String label,
            long plainEvents,
            long p50Micros,
            long p99Micros,
            long enrichedEvents,
            long calls,
            QueueDatabase.Counts queue,
            long offered) {}

    private static final int EVENTS_PER_REQUEST = 100;
    /** Senders, each one request at a time: at most this many requests in flight, each user's in its order. */
    private static final int LANES = 16;

    private final Options o;
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong offered = new AtomicLong();
    private final AtomicLong failedRequests = new AtomicLong();
    private final AtomicLong late = new AtomicLong();

    FunctionsRun(Options options) {
        this.o = options;
    }

    String run() throws Exception {
        Path dir = Files.createTempDirectory("sluice-bench-functions");
        String started = Instant.now().toString();
        List<Phase> phases = new ArrayList<>();
        try (BenchReceiver plain = new BenchReceiver();
                BenchReceiver enriched = new BenchReceiver();
                EnrichmentService service = new EnrichmentService();
                Sluice sluice = Sluice.standalone(new ConfigLoader(Map.of())
                        .loadYaml(yaml(dir.resolve("data"), plain.url(), enriched.url(), service.port())))) {
            sluice.start();
            QueueDatabase queue = new QueueDatabase(sluice.jdbcUrl());
            AtomicBoolean running = new AtomicBoolean(true);
            Thread load = Thread.ofPlatform().name("bench-load").start(() -> load(sluice.collectorUrl(), running));
            System.out.printf(
                    "Load: %,d events/s, %d per request, %d users; warm-up %ds%n",
                    o.rate(), EVENTS_PER_REQUEST, o.users(), o.warmup().toSeconds());
            Thread.sleep(o.warmup());
            for (EnrichmentService.Mode mode : EnrichmentService.Mode.values()) {
                service.mode(mode);
                plain.swapLatency();
                long enrichedBefore = enriched.acceptedEvents();
                long callsBefore = service.calls();
                long offeredBefore = offered.get();
                QueueDatabase.Counts queueBefore = queue.counts();
                Thread.sleep(o.phase());
                LatencyHistogram h = plain.swapLatency();
                Phase p = new Phase(
                        mode.label,
                        h.count(),
                        h.percentile(50),
                        h.percentile(99),
                        enriched.acceptedEvents() - enrichedBefore,
                        service.calls() - callsBefore,
                        queue.counts().minus(queueBefore),
                        offered.get() - offeredBefore);
                phases.add(p);
                System.out.printf(
                        "%-28s plain p50 %6d ms, p99 %6d ms (%,d events); enriched %,d events, %,d calls;"
                                + " queue db %,d transactions, %,d batch rows inserted, %,d updated%n",
                        p.label(),
                        p.p50Micros() / 1000,
                        p.p99Micros() / 1000,
                        p.plainEvents(),
                        p.enrichedEvents(),
                        p.calls(),
                        p.queue().transactions(),
                        p.queue().batchInserts(),
                        p.queue().batchUpdates());
            }
            running.set(false);
            load.join();
            long stopped = System.nanoTime();
            long deadline = stopped + o.catchUp().toNanos();
            while ((enriched.acceptedEvents() < sent.get() || plain.acceptedEvents() < sent.get())
                    && System.nanoTime() < deadline) Thread.sleep(100);
            String catchUp = enriched.acceptedEvents() < sent.get() || plain.acceptedEvents() < sent.get()
                    ? "not caught up within %ds after the load stopped"
                            .formatted(o.catchUp().toSeconds())
                    : "caught up %.0f s after the load stopped".formatted((System.nanoTime() - stopped) / 1e9);
            return report(phases, plain, enriched, started, catchUp, queue.deadLetters());
        } finally {
            BenchRun.deleteRecursively(dir);
        }
    }

    /**
     * Open-loop in {@link #LANES} lanes: lane i sends the events of the users u with u % LANES == i, one request at a
     * time (so each user's events reach the collector in their order), a request due every LANES * EVENTS_PER_REQUEST
     * / rate seconds; a request that comes due while the lane's previous one is still out is sent when that one is
     * answered and counts as late.
     */
    private void load(String collectorUrl, AtomicBoolean running) {
        List<Thread> lanes = new ArrayList<>();
        for (int lane = 0; lane < LANES; lane++) {
            int mine = lane;
            lanes.add(Thread.ofVirtual().name("bench-load-" + lane).start(() -> lane(collectorUrl, running, mine)));
        }
        for (Thread lane : lanes) {
            try {
                lane.join();
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private void lane(String collectorUrl, AtomicBoolean running, int lane) {
        HttpClient client =
                HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        String auth = "Basic " + Base64.getEncoder().encodeToString("wk_bench:".getBytes());
        long interval = 1_000_000_000L * EVENTS_PER_REQUEST * LANES / o.rate();
        long next = System.nanoTime() + interval * lane / LANES;
        long[] seq = new long[o.users()];
        int user = lane;
        while (running.get()) {
            long wait = next - System.nanoTime();
            if (wait > 0) {
                try {
                    Thread.sleep(Duration.ofNanos(wait));
                } catch (InterruptedException e) {
                    return;
                }
            } else if (wait < -interval / 2) {
                late.incrementAndGet();
            }
            next += interval;
            StringBuilder body = new StringBuilder(EVENTS_PER_REQUEST * 200).append("{\"batch\":[");
            for (int i = 0; i < EVENTS_PER_REQUEST; i++) {
                int u = user % o.users();
                user += LANES;
                if (user >= o.users()) user = lane;
                body.append(i == 0 ? "" : ",")
                        .append("{\"type\":\"track\",\"event\":\"Product Viewed\",\"userId\":\"user-")
                        .append(u)
                        .append("\",\"properties\":{\"seq\":")
                        .append(seq[u]++)
                        .append("}}");
            }
            HttpRequest request = HttpRequest.newBuilder(URI.create(collectorUrl + "/v1/batch"))
                    .header("Authorization", auth)
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body.append("]}").toString()))
                    .build();
            offered.addAndGet(EVENTS_PER_REQUEST);
            try {
                HttpResponse<Void> response = client.send(request, HttpResponse.BodyHandlers.discarding());
                if (response.statusCode() == 200) sent.addAndGet(EVENTS_PER_REQUEST);
                else failedRequests.incrementAndGet();
            } catch (InterruptedException e) {
                return;
            } catch (Exception e) {
                failedRequests.incrementAndGet();
            }
        }
    }

    private String report(
            List<Phase> phases,
            BenchReceiver plain,
            BenchReceiver enriched,
            String started,
            String catchUp,
            Map<String, Long> deadLetters) {
        StringBuilder out = new StringBuilder();
        out.append("`")
                .append(o.command())
                .append("` (started ")
                .append(started)
                .append(")\n\n");
        out.append(("Load %,d events/s (%d per request, %d users), %,d events accepted, %d failed requests, %d"
                        + " requests sent late (of %d lanes, one request each at a time); fetch concurrency %d;"
                        + " phases of %ds.%n%n")
                .formatted(
                        o.rate(),
                        EVENTS_PER_REQUEST,
                        o.users(),
                        sent.get(),
                        failedRequests.get(),
                        late.get(),
                        LANES,
                        o.concurrency(),
                        o.phase().toSeconds()));
        out.append("| enrichment service | offered events/s | plain sync p50 | p99 | p99 vs healthy | plain events"
                + " | enriched events | calls | queue-db transactions | per 10k events offered | batch rows inserted"
                + " | batch rows updated |\n");
        out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        long base = Math.max(1, phases.getFirst().p99Micros());
        for (Phase p : phases) {
            out.append("| %s | %,.0f | %d ms | %d ms | %+.0f %% | %,d | %,d | %,d | %,d | %.1f | %,d | %,d |%n"
                    .formatted(
                            p.label(),
                            p.offered() / (double) Math.max(1, o.phase().toSeconds()),
                            p.p50Micros() / 1000,
                            p.p99Micros() / 1000,
                            100.0 * (p.p99Micros() - base) / base,
                            p.plainEvents(),
                            p.enrichedEvents(),
                            p.calls(),
                            p.queue().transactions(),
                            10_000.0 * p.queue().transactions() / Math.max(1, p.offered()),
                            p.queue().batchInserts(),
                            p.queue().batchUpdates()));
        }
        out.append("\nQueue-database figures are the server's own statistics over the phase (pg_stat_database"
                + " xact_commit + xact_rollback of the queue database, pg_stat_user_tables of `batches`), both syncs"
                + " together; the bench's two reads per phase are included.\n");
        out.append(("%nPlain receiver: %,d events, %,d redelivered, %d per-user order violations; enriched receiver:"
                        + " %,d events (of %,d sent), %,d redelivered, %d per-user order violations; %s; dead letters"
                        + " by sync: %s.%n")
                .formatted(
                        plain.acceptedEvents(),
                        plain.redeliveries(),
                        plain.orderViolations(),
                        enriched.acceptedEvents(),
                        sent.get(),
                        enriched.redeliveries(),
                        enriched.orderViolations(),
                        catchUp,
                        deadLetters.isEmpty() ? "none" : deadLetters));
        return out.toString();
    }

    private String yaml(Path dataDir, String plainUrl, String enrichedUrl, int servicePort) {
        return """
                dataDir: %s
                kafka: {bootstrapServers: embedded, embeddedPort: 0, partitions: 8}
                postgres: {url: embedded, embeddedPort: 0, user: sluice}
                collector: {host: 127.0.0.1, port: 0}
                admin: {host: 127.0.0.1, port: 0}
                sources: [{id: web, writeKey: wk_bench}]
                destinations:
                  - {id: plain, type: webhook, url: "%s", mode: batch}
                  - {id: enriched, type: webhook, url: "%s", mode: batch, retry: {base: 500ms, cap: 5s, maxAttempts: 1000}}
                syncs:
                  - {id: to-plain, source: web, destination: plain}
                  - id: to-enriched
                    source: web
                    destination: enriched
                    settings: {base: "http://127.0.0.1:%d"}
                    fetch: {allowHosts: ["127.0.0.1:%d"], timeout: 3s, batchTimeout: 30s, concurrency: %d}
                    function: |
                      async function transform(event, context) {
                        const r = await fetch(context.settings.base + '/users/' + encodeURIComponent(event.userId));
                        if (!r.ok) throw new Error('enrichment answered ' + r.status);
                        event.properties.tier = (await r.json()).tier;
                        return event;
                      }
                """.formatted(dataDir, plainUrl, enrichedUrl, servicePort, servicePort, o.concurrency());
    }
}
