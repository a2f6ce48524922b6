package io.sluice.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.config.ConfigLoader;
import io.sluice.kafka.KafkaClients;
import io.sluice.runtime.Sluice;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ./sluice bench backfill}: the live lane's latency without and with a running backfill (docs/replay.md,
 * docs/performance.md). Standalone Sluice (embedded Kafka and PostgreSQL) with two webhook syncs to in-process
 * receivers: {@code live} (event mode, paced /v1/batch load, latency = arrival minus the collector's receivedAt) and
 * {@code replay} (batch mode). {@code --events} history events are published and delivered once by the replay sync's
 * live lane; then the live load runs for {@code --duration} alone (the backfill paused), and as long again while the
 * backfill sends the history again, alternated {@code --rounds} times in the same run, so both arms see the same
 * machine (a shared machine's load changes from minute to minute).
 */
@Command(
        name = "backfill",
        mixinStandardHelpOptions = true,
        description =
                "Live p50/p99 latency without and with a backfill of --events history events running, alternated.")
final class BenchBackfillCommand implements Callable<Integer> {
    @Option(
            names = "--events",
            defaultValue = "1000000",
            description = "History events to backfill (${DEFAULT-VALUE}).")
    int events;

    @Option(names = "--live-rate", defaultValue = "500", description = "Live events/s (${DEFAULT-VALUE}).")
    int liveRate;

    @Option(
            names = "--duration",
            defaultValue = "60s",
            converter = BenchCommand.DurationConverter.class,
            description = "Measured time per phase (${DEFAULT-VALUE}).")
    Duration duration;

    @Option(
            names = "--rate",
            defaultValue = "100000",
            description = "The backfill's rate limit, events/s (${DEFAULT-VALUE}).")
    int backfillRate;

    @Option(
            names = "--shared-destination",
            description =
                    "Both syncs deliver to one destination (batch mode, 500 per request), so the backfill competes"
                            + " with live batches for that destination's worker slots (a destination that lost data).")
    boolean sharedDestination;

    @Option(
            names = "--rounds",
            defaultValue = "2",
            description = "Pairs of phases, live alone then live beside the backfill, alternated (${DEFAULT-VALUE}).")
    int rounds;

    @Override
    public Integer call() throws Exception {
        Path dir = Files.createTempDirectory("sluice-bench-backfill");
        try (BenchReceiver live = new BenchReceiver();
                BenchReceiver own = new BenchReceiver()) {
            // shared: one receiver, whose redeliveries are the backfill's (live events are delivered once)
            BenchReceiver replay = sharedDestination ? live : own;
            String yaml = """
                    dataDir: %s
                    kafka: {bootstrapServers: embedded, embeddedPort: 0, partitions: 8}
                    postgres: {url: embedded, embeddedPort: 0, user: sluice}
                    collector: {host: 127.0.0.1, port: 0}
                    admin: {host: 127.0.0.1, port: 0, token: bench-token}
                    sources: [{id: web, writeKey: wk_bench}]
                    destinations:
                      - {id: live-hook, type: webhook, url: "%s", mode: %s}
                      - {id: replay-hook, type: webhook, url: "%s", mode: batch, maxBatchEvents: 500}
                    syncs:
                      - {id: live, source: web, destination: live-hook, filter: {events: [Live]}}
                      - {id: replay, source: web, destination: %s, filter: {events: [History]}, batch: {maxEvents: 1000}}
                    """.formatted(
                            dir,
                            live.url(),
                            sharedDestination ? "batch, maxBatchEvents: 500" : "event",
                            own.url(),
                            sharedDestination ? "live-hook" : "replay-hook");
            try (Sluice sluice = Sluice.standalone(new ConfigLoader(Map.of()).loadYaml(yaml))) {
                sluice.start();
                Instant historyFrom = Instant.now().minusSeconds(1);
                publishHistory(sluice.bootstrapServers());
                System.out.printf("Published %,d history events; waiting for the replay sync's live lane%n", events);
                awaitAccepted(replay, events, Duration.ofMinutes(30));
                live.swapLatency();
                HttpClient http = HttpClient.newHttpClient();
                String body = "{\"from\":\"" + historyFrom + "\",\"rate\":" + backfillRate + "}";
                long backfill = startPaused(http, sluice, body);
                // alternated in one run, so both arms see the same machine load: live alone (the backfill paused;
                // the few batches it had planned finish first), then live beside the running backfill
                StringBuilder rows = new StringBuilder();
                List<Phase> alone = new ArrayList<>();
                List<Phase> beside = new ArrayList<>();
                for (int round = 1; round <= rounds; round++) {
                    change(http, sluice, backfill, "pause");
                    settle(replay);
                    Phase a = measure(sluice, live, replay);
                    alone.add(a);
                    rows.append(a.row("live only, round " + round)).append('\n');
                    change(http, sluice, backfill, "resume");
                    Phase b = measure(sluice, live, replay);
                    beside.add(b);
                    rows.append(b.row("live + backfill, round " + round)).append('\n');
                }
                System.out.println("""
                        | phase | live events | live p50 | live p99 | live max | backfill events delivered | load avg (1 min) |
                        | --- | ---: | ---: | ---: | ---: | ---: | ---: |
                        """ + rows);
                for (int i = 0; i < rounds; i++)
                    System.out.printf(
                            "round %d: live p99 with the backfill %+.0f %% of the p99 without%n",
                            i + 1, 100.0 * (beside.get(i).p99 - alone.get(i).p99) / Math.max(1, alone.get(i).p99));
                long worstAlone = alone.stream().mapToLong(Phase::p99).max().orElse(0);
                long worstBeside = beside.stream().mapToLong(Phase::p99).max().orElse(0);
                System.out.printf(
                        "worst live p99: %.1f ms alone, %.1f ms beside the backfill (%+.0f %%)%n",
                        worstAlone / 1000.0,
                        worstBeside / 1000.0,
                        100.0 * (worstBeside - worstAlone) / Math.max(1, worstAlone));
                change(http, sluice, backfill, "cancel");
            }
        }
        return 0;
    }

    record Phase(long count, long p50, long p99, long max, long replayed, String load) {
        String row(String name) {
            return "| %s | %,d | %.1f ms | %.1f ms | %.1f ms | %,d | %s |"
                    .formatted(name, count, p50 / 1000.0, p99 / 1000.0, max / 1000.0, replayed, load);
        }
    }

    /** Creates the backfill and pauses it at once (the first phase measures live traffic alone). */
    private static long startPaused(HttpClient http, Sluice sluice, String body) throws Exception {
        HttpResponse<String> response = http.send(
                admin(sluice, "/admin/syncs/replay/backfill")
                        .POST(HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        System.out.println("Backfill created: " + response.statusCode() + " " + response.body());
        if (response.statusCode() != 201) throw new IllegalStateException("backfill refused: " + response.body());
        return new ObjectMapper().readTree(response.body()).get("id").asLong();
    }

    private static void change(HttpClient http, Sluice sluice, long backfill, String action) throws Exception {
        HttpResponse<String> response = http.send(
                admin(sluice, "/admin/backfills/" + backfill + "/" + action)
                        .POST(HttpRequest.BodyPublishers.noBody())
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        System.out.println("Backfill " + action + ": " + response.statusCode());
    }

    private static HttpRequest.Builder admin(Sluice sluice, String path) {
        return HttpRequest.newBuilder(URI.create(sluice.adminUrl() + path))
                .header("Authorization", "Bearer bench-token");
    }

    /** Waits until the paused backfill's planned batches are delivered (nothing arrives for 2 s). */
    private static void settle(BenchReceiver replay) {
        long last = replay.redeliveries();
        long quietSince = System.nanoTime();
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() - quietSince < Duration.ofSeconds(2).toNanos() && System.nanoTime() < deadline) {
            LockSupport.parkNanos(Duration.ofMillis(200).toNanos());
            long now = replay.redeliveries();
            if (now != last) {
                last = now;
                quietSince = System.nanoTime();
            }
        }
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (Exception e) {
            return "?";
        }
    }

    private Phase measure(Sluice sluice, BenchReceiver live, BenchReceiver replay) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        long replayedBefore = replay.redeliveries();
        live.swapLatency(); // what arrived between phases is neither arm's
        AtomicBoolean running = new AtomicBoolean(true);
        String auth = "Basic " + Base64.getEncoder().encodeToString("wk_bench:".getBytes(StandardCharsets.UTF_8));
        int perRequest = 10;
        long interval = 1_000_000_000L * perRequest / liveRate;
        long[] sent = {0};
        Thread load = Thread.ofPlatform().start(() -> {
            long next = System.nanoTime();
            while (running.get()) {
                StringBuilder b = new StringBuilder("{\"batch\":[");
                for (int i = 0; i < perRequest; i++) {
                    b.append(i == 0 ? "" : ",")
                            .append("{\"type\":\"track\",\"event\":\"Live\",\"userId\":\"u")
                            .append((sent[0] + i) % 1000)
                            .append("\"}");
                }
                try {
                    http.send(
                            HttpRequest.newBuilder(URI.create(sluice.collectorUrl() + "/v1/batch"))
                                    .header("Authorization", auth)
                                    .header("Content-Type", "application/json")
                                    .POST(HttpRequest.BodyPublishers.ofString(
                                            b.append("]}").toString()))
                                    .build(),
                            HttpResponse.BodyHandlers.discarding());
                    sent[0] += perRequest;
                } catch (Exception e) {
                    System.err.println("live request failed: " + e);
                }
                next += interval;
                LockSupport.parkNanos(Math.max(0, next - System.nanoTime()));
            }
        });
        LockSupport.parkNanos(duration.toNanos());
        running.set(false);
        load.join();
        LockSupport.parkNanos(Duration.ofSeconds(3).toNanos()); // the last live events arrive
        String loadAvg = loadAverage();
        LatencyHistogram h = live.swapLatency();
        return new Phase(
                h.count(),
                h.percentile(50),
                h.percentile(99),
                h.max(),
                replay.redeliveries() - replayedBefore,
                loadAvg);
    }

    private void publishHistory(String bootstrap) {
        try (KafkaProducer<byte[], byte[]> producer = KafkaClients.plain(bootstrap)
                .producer(Map.of(
                        ProducerConfig.LINGER_MS_CONFIG,
                        20,
                        ProducerConfig.BATCH_SIZE_CONFIG,
                        256 * 1024,
                        ProducerConfig.COMPRESSION_TYPE_CONFIG,
                        "lz4"))) {
            String now = Instant.now().toString();
            for (int i = 0; i < events; i++) {
                String user = "h" + (i % 5000);
                String value = "{\"type\":\"track\",\"event\":\"History\",\"userId\":\"" + user
                        + "\",\"messageId\":\"hist-" + i
                        + "\",\"receivedAt\":\"" + now + "\",\"timestamp\":\"" + now
                        + "\",\"sourceId\":\"web\",\"properties\":{\"n\":" + i + "}}";
                producer.send(new ProducerRecord<>(
                        "sluice.events",
                        ("web:" + user).getBytes(StandardCharsets.UTF_8),
                        value.getBytes(StandardCharsets.UTF_8)));
            }
            producer.flush();
        }
    }

    private static void awaitAccepted(BenchReceiver receiver, long count, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (receiver.acceptedEvents() < count) {
            if (System.nanoTime() > deadline) throw new IllegalStateException("history not delivered in " + timeout);
            LockSupport.parkNanos(Duration.ofMillis(500).toNanos());
        }
    }
}
