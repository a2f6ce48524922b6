package io.sluice.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.collector.EventPublisher;
import io.sluice.config.ConfigLoader;
import io.sluice.config.SluiceConfig;
import io.sluice.embedded.EmbeddedKafka;
import io.sluice.kafka.EventsTopic;
import io.sluice.kafka.KafkaClients;
import io.sluice.runtime.Sluice;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

/**
 * One benchmark run: an embedded broker in a temp dir, an in-process collector on a free port, then each selected
 * phase (raw producer, /v1/batch, /v1/track) for warm-up + measured window. Everything is bounded in time; the
 * broker, collector and temp dir are removed at the end.
 */
public final class BenchRun {
    private static final String WRITE_KEY = BenchEvents.WRITE_KEY;
    private static final Duration DRAIN = Duration.ofSeconds(10);

    /** What to run; {@code phases} is any of raw, batch, track. */
    public record Options(
            Duration duration,
            Duration warmup,
            int concurrency,
            int trackConcurrency,
            int batchSize,
            int partitions,
            List<String> phases,
            Path report,
            boolean threads,
            String command) {}

    private final Options options;
    private final ResourceMonitor monitor = new ResourceMonitor();

    public BenchRun(Options options) {
        this.options = options;
    }

    /** Runs every phase and prints the summary; returns it (Markdown). */
    public String run() throws Exception {
        for (String phase : options.phases()) {
            if (!List.of("raw", "batch", "track").contains(phase))
                throw new IllegalArgumentException("unknown phase '" + phase + "'; use raw, batch, track");
        }
        if (options.batchSize() > 2_500)
            throw new IllegalArgumentException("--batch-size is at most 2500 (the collector's maxBatchEvents)");
        Path dir = Files.createTempDirectory("sluice-bench");
        EmbeddedKafka kafka = new EmbeddedKafka(dir.resolve("kafka"), 0);
        Sluice sluice = null;
        List<PhaseResult> results = new ArrayList<>();
        try {
            kafka.start();
            sluice = startCollector(kafka.bootstrapServers(), dir);
            BenchEvents generator = new BenchEvents();
            List<ObjectNode> events = generator.events(4_000);
            List<byte[]> eventBodies = generator.eventBodies(events);
            System.out.printf(
                    "Events: %d distinct, %d-%d bytes (mean %.0f); phases %s; warm-up %ds, measured %ds each%n",
                    events.size(),
                    eventBodies.stream().mapToInt(b -> b.length).min().orElse(0),
                    eventBodies.stream().mapToInt(b -> b.length).max().orElse(0),
                    eventBodies.stream().mapToInt(b -> b.length).average().orElse(0),
                    options.phases(),
                    options.warmup().toSeconds(),
                    options.duration().toSeconds());
            for (String phase : options.phases()) {
                PhaseResult result = switch (phase) {
                    case "raw" -> raw(sluice, kafka.bootstrapServers(), events, eventBodies);
                    case "batch" ->
                        http(
                                sluice,
                                "POST /v1/batch x" + options.batchSize(),
                                "/v1/batch",
                                generator.batchBodies(events, options.batchSize()),
                                options.batchSize(),
                                options.concurrency());
                    case "track" ->
                        http(sluice, "POST /v1/track", "/v1/track", eventBodies, 1, options.trackConcurrency());
                    default -> throw new IllegalStateException(phase);
                };
                results.add(result);
                System.out.printf(
                        "  %-22s %s events/s, p99 %.1f ms%n",
                        result.name(), BenchReport.num(result.eventsPerSecond()), result.latencyMillis(99));
                System.gc(); // start the next phase from a collected heap
            }
        } finally {
            monitor.close();
            if (sluice != null) sluice.close();
            kafka.close();
            deleteRecursively(dir);
        }
        BenchReport report = new BenchReport(results, options.command());
        String summary = report.render();
        System.out.println("\n" + summary);
        if (options.threads()) System.out.println(report.topThreads());
        if (options.report() != null) {
            Files.writeString(
                    options.report(), summary + (options.threads() ? "\n```\n" + report.topThreads() + "```\n" : ""));
            System.out.println("Summary written to " + options.report());
        }
        return summary;
    }

    private Sluice startCollector(String bootstrapServers, Path dir) {
        return startCollector(bootstrapServers, dir, options.partitions());
    }

    /** A collector-only Sluice on a free 127.0.0.1 port, events topic {@code bench.events}. */
    static Sluice startCollector(String bootstrapServers, Path dir, int partitions) {
        String yaml =
                """
                dataDir: %s
                kafka:
                  bootstrapServers: %s
                  eventsTopic: bench.events
                  partitions: %d
                collector:
                  host: 127.0.0.1
                  port: 0
                admin:
                  host: 127.0.0.1
                  port: 0
                sources:
                  - id: %s
                    writeKey: %s
                """.formatted(dir.resolve("data"), bootstrapServers, partitions, BenchEvents.SOURCE_ID, WRITE_KEY);
        SluiceConfig config = new ConfigLoader(Map.of()).loadYaml(yaml);
        Sluice sluice = new Sluice(config, EnumSet.of(Sluice.Role.COLLECTOR), false, Clock.systemUTC());
        sluice.start();
        return sluice;
    }

    private PhaseResult raw(Sluice sluice, String bootstrapServers, List<ObjectNode> events, List<byte[]> values)
            throws Exception {
        String topic = "bench.raw";
        EventsTopic.ensure(KafkaClients.plain(bootstrapServers), topic, options.partitions());
        var collector = sluice.config().collector();
        Map<String, Object> props = EventPublisher.producerProperties(
                bootstrapServers, collector.ackTimeout(), collector.maxInFlightBytes());
        List<byte[]> keys = events.stream().map(BenchEvents::partitionKey).toList();
        System.out.println("Phase raw: one thread, kafka-clients producer with the collector's settings -> " + topic);
        Measured<RawProducerLoad.Result> m = measure(window -> RawProducerLoad.run(props, topic, values, keys, window));
        return new PhaseResult(
                "raw producer",
                1,
                1,
                m.seconds,
                m.result.acked(),
                Map.of(),
                m.result.failed(),
                0,
                m.result.ackLatencyMicros(),
                m.usage);
    }

    private PhaseResult http(
            Sluice sluice, String name, String path, List<byte[]> bodies, int eventsPerRequest, int clients)
            throws Exception {
        URI url = URI.create(sluice.collectorUrl());
        String hostPort = url.getHost() + ":" + url.getPort();
        List<byte[]> requests = bodies.stream()
                .map(b -> BenchEvents.httpRequest(path, hostPort, b))
                .toList();
        System.out.printf(
                "Phase %s: %d keep-alive connections, %d distinct bodies (%d bytes mean)%n",
                name, clients, bodies.size(), (long)
                        bodies.stream().mapToInt(b -> b.length).average().orElse(0));
        HttpLoad load = new HttpLoad(new InetSocketAddress(url.getHost(), url.getPort()), requests, clients);
        Measured<HttpLoad.Result> m = measure(window -> load.run(window, DRAIN.toNanos()));
        return new PhaseResult(
                name,
                clients,
                eventsPerRequest,
                m.seconds,
                m.result.ok(),
                m.result.non200(),
                m.result.errors(),
                m.result.unfinished(),
                m.result.latencyMicros(),
                m.usage);
    }

    private record Measured<T>(T result, ResourceMonitor.Usage usage, double seconds) {}

    /** A phase's load generator, run for one window. */
    private interface Load<T> {
        T run(Window window) throws Exception;
    }

    /** Runs {@code load} on its own thread ("bench-load") and samples resources over its measured window only. */
    private <T> Measured<T> measure(Load<T> load) throws Exception {
        Window window = Window.after(options.warmup(), options.duration());
        AtomicReference<T> result = new AtomicReference<>();
        AtomicReference<Exception> failure = new AtomicReference<>();
        Thread thread = Thread.ofPlatform().name("bench-load").start(() -> {
            try {
                result.set(load.run(window));
            } catch (Exception e) {
                failure.set(e);
            }
        });
        thread.join(Duration.ofNanos(
                Math.max(1, window.start() - System.nanoTime()))); // returns early only if the load failed
        monitor.begin();
        thread.join(Duration.ofNanos(Math.max(1, window.end() - System.nanoTime())));
        ResourceMonitor.Usage usage = monitor.end();
        window.snapshotTaken();
        if (!thread.join(DRAIN.plusSeconds(30))) {
            thread.interrupt();
            throw new IllegalStateException("the load thread did not finish within its time bound");
        }
        if (failure.get() != null) throw failure.get();
        return new Measured<>(result.get(), usage, window.seconds());
    }

    static void deleteRecursively(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            System.err.println("Could not remove " + dir + ": " + e.getMessage());
        }
    }
}
