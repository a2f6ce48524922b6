package io.sluice.bench;

import com.sun.management.OperatingSystemMXBean;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Timer;
import io.sluice.config.ConfigLoader;
import io.sluice.runtime.Sluice;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The end-to-end benchmark: Sluice in standalone mode (embedded Kafka and PostgreSQL, all roles, warehouse = the
 * embedded 'warehouse' database) in a temp dir, a paced /v1/batch load for warm-up + window, then the wait until the
 * warehouse holds every accepted event. Latency, throughput and load times come from the warehouse afterwards
 * ({@link PipelineProbe}); statement counts, CPU and heap are taken at the window's edges.
 */
public final class PipelineRun {
    static final String USER = "sluice";
    static final String SCHEMA = "web";
    static final List<String> GROUPS = List.of(
            "load generator",
            "collector",
            "planner",
            "worker",
            "virtual threads",
            "kafka broker",
            "other sluice",
            "jvm (gc, jit)");
    private static final Duration ANSWER_DRAIN = Duration.ofSeconds(10);
    private static final int MAX_CONNECTIONS = 256;
    private static final long PRIMER_IDS = 0x7000_0000_0000_0000L;

    /**
     * What to run. Batch and worker settings are passed to the configuration as written (e.g. 500ms, 1MB); null
     * leaves Sluice's default.
     */
    public record Options(
            int rate,
            Duration duration,
            Duration warmup,
            int requestEvents,
            int partitions,
            Integer maxEvents,
            String maxBytes,
            String maxAge,
            Integer workerConcurrency,
            String pollInterval,
            Duration drainTimeout,
            Path report,
            boolean threads,
            Path jfr,
            String command) {}

    private final Options o;

    public PipelineRun(Options options) {
        this.o = options;
    }

    public String run() throws Exception {
        Path dir = Files.createTempDirectory("sluice-bench-pipeline");
        Sluice sluice = null;
        try (ResourceMonitor monitor = new ResourceMonitor(GROUPS, PipelineRun::group);
                SampleProfile profile = new SampleProfile(PipelineRun::group)) {
            System.out.println(
                    "Preparing the embedded PostgreSQL (track_commit_timestamp, pg_stat_statements) in " + dir);
            PipelineProbe.prepare(dir.resolve("data").resolve("postgres"), USER);
            sluice = Sluice.standalone(new ConfigLoader(Map.of()).loadYaml(yaml(dir.resolve("data"))));
            sluice.start();
            PipelineProbe probe = new PipelineProbe(USER, sluice.jdbcUrl(), sluice.warehouseUrl(), SCHEMA);
            probe.enableStatementStatistics();
            PostgresCpu pgCpu = new PostgresCpu(
                    dir.resolve("data").resolve("postgres").resolve("pgdata"), "sluice", Sluice.WAREHOUSE_DATABASE);
            URI url = URI.create(sluice.collectorUrl());
            InetSocketAddress collector = new InetSocketAddress(url.getHost(), url.getPort());
            long primed = prime(collector, probe);
            PacedLoad load =
                    new PacedLoad(collector, new BenchEvents(), o.requestEvents(), o.rate(), MAX_CONNECTIONS, 0);
            System.out.printf(
                    "Load: %,d events/s as POST /v1/batch x%d (%.0f requests/s, %,.0f bytes each), warm-up %ds, measured %ds%n",
                    o.rate(),
                    o.requestEvents(),
                    o.rate() / (double) o.requestEvents(),
                    load.averageBodyBytes(),
                    o.warmup().toSeconds(),
                    o.duration().toSeconds());
            return measure(sluice, probe, pgCpu, load, monitor, profile, primed);
        } finally {
            if (sluice != null) sluice.close();
            BenchRun.deleteRecursively(dir);
        }
    }

    private String measure(
            Sluice sluice,
            PipelineProbe probe,
            PostgresCpu pgCpu,
            PacedLoad load,
            ResourceMonitor monitor,
            SampleProfile profile,
            long primed)
            throws Exception {
        long epochOffsetNanos = System.currentTimeMillis() * 1_000_000L - System.nanoTime();
        Window window = Window.after(o.warmup(), o.duration());
        long started = System.nanoTime();
        AtomicReference<PacedLoad.Result> result = new AtomicReference<>();
        AtomicReference<Exception> failure = new AtomicReference<>();
        Thread thread = Thread.ofPlatform().name("bench-load").start(() -> {
            try {
                result.set(load.run(window, ANSWER_DRAIN.toNanos()));
            } catch (Exception e) {
                failure.set(e);
            }
        });
        List<long[]> timeline = new ArrayList<>();
        Map<String, long[]> edges = new LinkedHashMap<>(); // name -> {at start, at end}
        PostgresCpu.Snapshot pg0 = null;
        PipelineProbe.ServerCounts server0 = null;
        PipelineReport.Figures w = new PipelineReport.Figures();
        long[] warmupCpu = {ResourceMonitor.machineBusyNanos(), processCpuNanos(), 0};
        PostgresCpu.Snapshot pgAtLoadStart = pgCpu.snapshot();
        long nextSample = started + TimeUnit.SECONDS.toNanos(1);
        boolean begun = false;
        while (true) {
            long now = System.nanoTime();
            long wake = Math.min(nextSample, begun ? window.end() : window.start());
            if (now < wake) {
                Thread.sleep(Math.max(1, (wake - now) / 1_000_000));
                continue;
            }
            if (!begun && now >= window.start()) {
                begun = true;
                double warm = (now - started) / 1e9;
                double pgWarm = PostgresCpu.cores(pgAtLoadStart, pgCpu.snapshot(), warm).values().stream()
                        .mapToDouble(Double::doubleValue)
                        .sum();
                w.otherCoresInWarmup = Math.max(
                        0,
                        (ResourceMonitor.machineBusyNanos() - warmupCpu[0] - (processCpuNanos() - warmupCpu[1]))
                                        / 1e9
                                        / warm
                                - pgWarm);
                monitor.begin();
                profile.start();
                pg0 = pgCpu.snapshot();
                server0 = probe.serverCounts();
                edges.put("statements", new long[] {sluice.queueStore().statementCount(), 0});
                edges.put("accepted", new long[] {load.accepted(), 0});
                edges.put("delivered", new long[] {delivered(sluice) - primed, 0});
                edges.put("batchTimer", new long[] {batchCount(sluice), (long) batchNanos(sluice)});
            }
            if (now >= window.end()) {
                w.usage = monitor.end();
                profile.stopRecording();
                w.pgCores = PostgresCpu.cores(pg0, pgCpu.snapshot(), window.seconds());
                edges.get("statements")[1] = sluice.queueStore().statementCount();
                edges.get("accepted")[1] = load.accepted();
                edges.get("delivered")[1] = delivered(sluice) - primed;
                edges.put("batchTimer", new long[] {
                    batchCount(sluice) - edges.get("batchTimer")[0],
                    (long) batchNanos(sluice) - edges.get("batchTimer")[1]
                });
                window.snapshotTaken();
                w.server = PipelineReport.serverDelta(server0, probe.serverCounts());
                break;
            }
            if (now >= nextSample) {
                long[] point = {Math.round((now - started) / 1e9), load.accepted(), delivered(sluice) - primed};
                timeline.add(point);
                if (point[0] % 5 == 0) {
                    System.out.printf(
                            "  +%3ds%s accepted %,11d  delivered %,11d  backlog %,9d%n",
                            point[0],
                            now < window.start() ? " (warm-up)" : "          ",
                            point[1],
                            point[2],
                            point[1] - point[2]);
                }
                nextSample += TimeUnit.SECONDS.toNanos(1);
            }
        }
        if (!thread.join(ANSWER_DRAIN.plusSeconds(30)))
            throw new IllegalStateException("the load thread did not finish in time");
        if (failure.get() != null) throw failure.get();
        w.load = result.get();
        System.out.printf(
                "Window over: %,d events accepted in total; waiting up to %ds for the warehouse to hold them all%n",
                w.load.acceptedEvents(), o.drainTimeout().toSeconds());
        long drainDeadline = window.end() + o.drainTimeout().toNanos();
        while (System.nanoTime() < drainDeadline
                && (w.warehouseEvents = probe.warehouseEvents() - primed) < w.load.acceptedEvents()) {
            Thread.sleep(500);
        }
        w.drainedAfterSeconds = w.warehouseEvents >= w.load.acceptedEvents()
                ? probe.lastCommitAfter(toInstant(window.end(), epochOffsetNanos))
                : Double.NaN;
        Instant from = toInstant(window.start(), epochOffsetNanos);
        Instant to = toInstant(window.end(), epochOffsetNanos);
        System.out.println("Reading latency, loads and batches from the databases...");
        w.config = sluice.config();
        w.seconds = window.seconds();
        w.edges = edges;
        w.timeline = timeline;
        w.latency = probe.latency(from, to);
        w.loads = probe.loads(from, to);
        w.committed = probe.committedIn(from, to, SCHEMA);
        w.batches = probe.batches(from, to);
        w.profile = profile.summarise(o.jfr());
        PipelineReport report = new PipelineReport(o, w);
        String summary = report.render();
        System.out.println("\n" + summary);
        if (o.threads()) System.out.println(report.details());
        if (o.report() != null) {
            Files.writeString(o.report(), summary + (o.threads() ? "\n```\n" + report.details() + "```\n" : ""));
            System.out.println("Summary written to " + o.report());
        }
        return summary;
    }

    /**
     * A short load at 10 % of the rate (at least 1,000 events/s) for 3 s, then the wait until the warehouse holds
     * it: the warehouse tables exist and every part has handled events before the clock starts. Returns the events.
     */
    private long prime(InetSocketAddress collector, PipelineProbe probe) throws Exception {
        long started = System.nanoTime();
        PacedLoad primer = new PacedLoad(
                collector, new BenchEvents(), o.requestEvents(), Math.max(1_000, o.rate() / 10), 32, PRIMER_IDS);
        Window window = Window.after(Duration.ZERO, Duration.ofSeconds(3));
        window.snapshotTaken(); // no resources are sampled for the priming load: it need not wait for that
        long accepted = primer.run(window, ANSWER_DRAIN.toNanos()).acceptedEvents();
        long deadline = System.nanoTime() + o.drainTimeout().toNanos();
        while (probe.warehouseEvents() < accepted) {
            if (System.nanoTime() > deadline)
                throw new IllegalStateException(
                        "the priming events did not reach the warehouse within --drain-timeout");
            Thread.sleep(200);
        }
        System.out.printf(
                "Primed: %,d events in the warehouse %.1f s after the first was sent%n",
                accepted, (System.nanoTime() - started) / 1e9);
        return accepted;
    }

    private static Instant toInstant(long nanoTime, long epochOffsetNanos) {
        long epochNanos = nanoTime + epochOffsetNanos;
        return Instant.ofEpochSecond(
                Math.floorDiv(epochNanos, 1_000_000_000L), Math.floorMod(epochNanos, 1_000_000_000L));
    }

    private static long processCpuNanos() {
        return ((OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    private static long delivered(Sluice sluice) {
        return (long) sluice.registry().find("sluice.delivery.events").counters().stream()
                .mapToDouble(Counter::count)
                .sum();
    }

    private static long batchCount(Sluice sluice) {
        return sluice.registry().find("sluice.delivery.batch").timers().stream()
                .mapToLong(Timer::count)
                .sum();
    }

    private static double batchNanos(Sluice sluice) {
        return sluice.registry().find("sluice.delivery.batch").timers().stream()
                .mapToDouble(t -> t.totalTime(TimeUnit.NANOSECONDS))
                .sum();
    }

    private String yaml(Path dataDir) {
        return """
                dataDir: %s
                kafka:
                  bootstrapServers: embedded
                  embeddedPort: 0
                  partitions: %d
                postgres:
                  url: embedded
                  embeddedPort: 0
                  user: %s
                collector:
                  host: 127.0.0.1
                  port: 0
                admin:
                  host: 127.0.0.1
                  port: 0
                sources:
                  - id: %s
                    writeKey: %s
                destinations:
                  - id: warehouse
                    type: postgres
                    url: embedded
                syncs:
                  - id: web-to-warehouse
                    source: %s
                    destination: warehouse
                    batch: {%s}
                worker: {%s}
                """.formatted(
                        dataDir,
                        o.partitions(),
                        USER,
                        BenchEvents.SOURCE_ID,
                        BenchEvents.WRITE_KEY,
                        BenchEvents.SOURCE_ID,
                        entries("maxEvents", o.maxEvents(), "maxBytes", o.maxBytes(), "maxAge", o.maxAge()),
                        entries("concurrency", o.workerConcurrency(), "pollInterval", o.pollInterval()));
    }

    /** A YAML flow mapping's entries for the values given (null: not set, Sluice's default applies). */
    private static String entries(Object... keysAndValues) {
        List<String> entries = new ArrayList<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            if (keysAndValues[i + 1] != null) entries.add(keysAndValues[i] + ": " + keysAndValues[i + 1]);
        }
        return String.join(", ", entries);
    }

    /** Platform threads by name; the carriers of virtual threads are split later with the JFR samples. */
    static String group(String name) {
        if (name.startsWith("bench-")) return "load generator";
        if (name.contains("sluice-collector")
                || name.startsWith("qtp")
                || name.startsWith("Javalin")
                || name.contains("jetty")) return "collector";
        if (name.contains("sluice-planner")) return "planner";
        if (name.contains("sluice-worker") || name.contains("sluice-warehouse") || name.contains("sluice-delivery"))
            return "worker";
        if (name.matches("ForkJoinPool-\\d+-worker-\\d+") || name.startsWith("ForkJoinPool-delayScheduler"))
            return "virtual threads";
        if (name.contains("sluice") || name.startsWith("HikariPool") || name.startsWith("ForkJoinPool.commonPool"))
            return "other sluice";
        return "kafka broker";
    }
}
